namespace Goq;

/// <summary>
/// Builds a job's environment: the worker's own, overlaid with the submitter's captured one except the protected
/// names (goq's list), then the variables the submitter set explicitly. Nothing named GOQ_* ever gets through, nor
/// any variable whose name or value holds a withheld text (the cluster secret: goq's TestEnvCannotContainKey).
/// </summary>
public static class JobEnvironment
{
    private static readonly HashSet<string> Protected = new(StringComparer.Ordinal)
    {
        "PATH", "PWD", "LANG", "PS1", "_", "TMPDIR", "SHELL", "OLDPWD", "USER", "LOGNAME", "HOME", "GOBIN", "GOROOT",
        "GOROOT_BOOTSTRAP", "COLORTERM", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "SHLVL", "DISPLAY", "SSH_AUTH_SOCK",
        "XDG_RUNTIME_DIR", "PSModulePath",
    };

    public static bool IsProtected(string name) =>
        Protected.Contains(name) || name.StartsWith("TERM", StringComparison.Ordinal) || name.StartsWith("HIST", StringComparison.Ordinal);

    /// <summary>Goq's own settings and secrets: never passed to a job or captured from a submitter.</summary>
    public static bool IsGoqSetting(string name) => name.StartsWith("GOQ_", StringComparison.OrdinalIgnoreCase);

    /// <summary>A submitter's environment as it travels: every variable but Goq's own.</summary>
    public static Dictionary<string, string> Capture(IEnumerable<KeyValuePair<string, string>> environment, IReadOnlyCollection<string>? withheld = null)
    {
        var captured = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            if (!IsGoqSetting(name) && !Holds(name, value, withheld))
            {
                captured[name] = value;
            }
        }

        return captured;
    }

    /// <summary>
    /// Why a variable cannot be passed to a job, or null. A NUL would silently cut the name or value at the exec
    /// boundary (the C environment is NUL-terminated), so it is refused rather than truncated.
    /// </summary>
    public static string? Problem(string name, string? value)
    {
        if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
        {
            return $"'{name.Replace("\0", "\\0")}' is not a valid environment variable name (empty, or holds '=' or NUL)";
        }

        return value?.Contains('\0') == true ? $"the value of '{name}' holds a NUL character, which no process environment can carry" : null;
    }

    private static bool Holds(string name, string? value, IReadOnlyCollection<string>? withheld) =>
        withheld is not null && withheld.Any(w => w.Length > 0
            && (name.Contains(w, StringComparison.OrdinalIgnoreCase) || (value?.Contains(w, StringComparison.OrdinalIgnoreCase) ?? false)));

    public static void Apply(IDictionary<string, string?> target, JobSpec spec, string workingDirectory, IReadOnlyCollection<string>? withheld = null)
    {
        foreach (var (name, value) in spec.CapturedEnvironment ?? new Dictionary<string, string>())
        {
            if (!IsProtected(name))
            {
                target[name] = value;
            }
        }

        foreach (var (name, value) in spec.Environment ?? new Dictionary<string, string>())
        {
            target[name] = value;
        }

        // Checkpoint (secrets): whatever the submitter or the worker's own environment held, this is what the job sees.
        foreach (var name in target.Where(e => IsGoqSetting(e.Key) || Holds(e.Key, e.Value, withheld)).Select(e => e.Key).ToList())
        {
            target.Remove(name);
        }

        target["PWD"] = workingDirectory;
    }
}
