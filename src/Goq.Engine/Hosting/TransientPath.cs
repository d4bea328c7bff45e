namespace Goq.Hosting;

/// <summary>
/// Whether a path a service unit starts from may vanish under it: a NuGet package cache (where a dotnet tool's pwsh
/// or a restored module lives; a cache clean or a tool update removes it) or a temporary folder (a checkout or build in
/// /tmp; cleaned at boot or by tmpfiles). New-GoqServiceUnit warns about such a path in the ExecStart it writes.
/// </summary>
public static class TransientPath
{
    /// <summary>Why <paramref name="path"/> is transient ("a NuGet package cache", "a temporary folder"), or null.</summary>
    public static string? Why(string path)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var nuget = new List<string>();
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages)
        {
            nuget.Add(packages);
        }

        if (home.Length > 0)
        {
            nuget.Add(Path.Combine(home, ".nuget", "packages"));
        }

        var temp = new List<string> { Path.GetTempPath() };
        if (!OperatingSystem.IsWindows())
        {
            temp.AddRange(["/tmp", "/var/tmp"]);
        }

        return Why(path, nuget, temp);
    }

    /// <summary>The same with the caches and temporary folders given (for tests).</summary>
    public static string? Why(string path, IEnumerable<string> nugetCaches, IEnumerable<string> tempFolders)
    {
        var full = Path.GetFullPath(path);
        if (nugetCaches.Any(cache => IsUnder(full, cache)))
        {
            return "a NuGet package cache";
        }

        return tempFolders.Any(temp => IsUnder(full, temp)) ? "a temporary folder" : null;
    }

    private static bool IsUnder(string path, string folder)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return path.StartsWith(root, comparison);
    }
}
