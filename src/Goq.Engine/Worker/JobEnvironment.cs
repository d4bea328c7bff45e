namespace Goq.Worker;

/// <summary>
/// Builds a job's environment: the worker's own, overlaid with the submitter's captured one except the protected
/// names (goq's list), then the variables the submitter set explicitly. Nothing named GOQ_* ever gets through.
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
    public static Dictionary<string, string> Capture(IEnumerable<KeyValuePair<string, string>> environment)
    {
        var captured = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            if (!IsGoqSetting(name))
            {
                captured[name] = value;
            }
        }

        return captured;
    }

    public static void Apply(IDictionary<string, string?> target, JobSpec spec, string workingDirectory)
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

        foreach (var name in target.Keys.Where(IsGoqSetting).ToList())
        {
            target.Remove(name);
        }

        target["PWD"] = workingDirectory;
    }
}
