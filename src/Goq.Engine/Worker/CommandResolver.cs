namespace Goq.Worker;

/// <summary>
/// Finds the program a job names, the way a shell would (PATH for bare names, the job's directory for relative
/// paths), so a missing or non-executable program is a clear failure before anything is started.
/// </summary>
internal static class CommandResolver
{
    /// <summary>The full path of an executable file, or null with the reason.</summary>
    public static string? Resolve(string command, string workingDirectory, string? pathVariable, out string? reason)
    {
        reason = null;
        if (command.Contains('/') || (OperatingSystem.IsWindows() && command.Contains('\\')))
        {
            var full = Path.IsPathRooted(command) ? command : Path.GetFullPath(Path.Combine(workingDirectory, command));
            return Check(full, command, out reason);
        }

        foreach (var dir in (pathVariable ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (OperatingSystem.IsWindows())
            {
                foreach (var ext in new[] { "", ".exe", ".cmd", ".bat" })
                {
                    if (File.Exists(candidate + ext))
                    {
                        return candidate + ext;
                    }
                }
            }
            else if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        reason = $"cannot start '{command}': no such program on the PATH";
        return null;
    }

    public static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows()
        || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    private static string? Check(string full, string command, out string? reason)
    {
        reason = null;
        if (Directory.Exists(full))
        {
            reason = $"cannot start '{command}': it is a directory";
            return null;
        }

        if (!File.Exists(full))
        {
            reason = $"cannot start '{command}': no such file ({full})";
            return null;
        }

        if (!IsExecutable(full))
        {
            reason = $"cannot start '{command}': permission denied (not executable)";
            return null;
        }

        return full;
    }
}
