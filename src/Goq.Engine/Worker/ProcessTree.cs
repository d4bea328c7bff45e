using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Goq.Worker;

/// <summary>Kills a job's whole process tree: its process group first (Unix), then any descendant left.</summary>
internal static class ProcessTree
{
    private const int SigKill = 9;

    public static void Kill(Process process, bool ownGroup)
    {
        int pid;
        try
        {
            pid = process.Id;
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (ownGroup && !OperatingSystem.IsWindows())
        {
            // The job leads its own process group, so this reaches children that were re-parented too.
            _ = kill(-pid, SigKill);
        }

        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    /// <summary>Kills what is left in the group of a job whose main process has exited.</summary>
    public static void KillGroup(int pid)
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = kill(-pid, SigKill);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
