namespace Goq.Platform;

/// <summary>
/// Names what a process sees of the file system: its machine's boot (the kernel's random boot id, unique to one machine
/// and one boot) and its mount namespace. Two processes with the same key see the same files at the same paths, so a
/// worker whose key is the server's can write a job's output file itself (the server reads it back). A container has
/// a mount namespace of its own, so a worker in one never passes for the server's host. Null where it cannot be read
/// (not Linux): the output then goes through the server.
/// </summary>
public static class HostKey
{
    private static readonly Lazy<string?> Own = new(Read);

    public static string? Current => Own.Value;

    private static string? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            var mounts = new FileInfo("/proc/self/ns/mnt").LinkTarget;
            return boot.Length > 0 && mounts is not null ? $"{boot}/{mounts}" : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
