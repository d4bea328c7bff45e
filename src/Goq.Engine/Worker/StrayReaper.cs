using System.Runtime.InteropServices;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// Reaps the processes this one adopted as a child subreaper that are not the shim's job: while the flag is on (see
/// <see cref="JobShim"/>), any process in our tree whose parent exits becomes our child (a job's <c>sleep 1 &amp;</c>,
/// a daemon's double fork), and nothing else waits for it, so each would stay a zombie for the life of the keeper.
/// <see cref="Before"/> and <see cref="After"/> bracket each window; <see cref="Sweep"/> runs after each shim start, when
/// a job ends, and on a timer while strays remain. Cost: two reads of /proc/self/task/*/children per job start.
/// </summary>
internal static class StrayReaper
{
    private static readonly Lock Sync = new();
    private static readonly HashSet<int> Strays = [];
    private static readonly int OurSession = OperatingSystem.IsLinux() ? getsid(0) : -1;
    private static Timer? _timer;

    /// <summary>Our children now (called with <see cref="JobShim.Gate"/> held, just before the flag goes on).</summary>
    public static HashSet<int> Before() => Children();

    /// <summary>
    /// Records the processes adopted in the window that just closed (flag off, <see cref="JobShim.Gate"/> held).
    /// Guarantee point (safety): a pid is taken as a stray only if it was not our child when the flag went on, is not
    /// the job the shim started (<paramref name="job"/>, reaped by its SpawnedJobProcess), and is in another session
    /// than ours. Every job leads its own session, so what its tree leaves behind is in another session. The only
    /// children this process starts in other sessions are its own posix_spawn'd jobs and script runners, and
    /// SpawnedJobProcess spawns those under <see cref="JobShim.Gate"/> too, so none can appear inside a window;
    /// System.Diagnostics.Process children (the keeper a relay starts, test helpers) stay in our session at first, so
    /// .NET's own children, which its SIGCHLD handling waits for, are not taken. A recorded pid stays ours until we
    /// reap it (a zombie keeps its pid), so no other process can get that pid while it is recorded.
    /// </summary>
    public static void After(HashSet<int> before, int job)
    {
        List<int>? adopted = null;
        foreach (var pid in Children())
        {
            if (pid != job && !before.Contains(pid) && SessionOf(pid) is { } sid && sid != OurSession)
            {
                (adopted ??= []).Add(pid);
            }
        }

        if (adopted is not null)
        {
            lock (Sync)
            {
                Strays.UnionWith(adopted);
                Adopted += adopted.Count;
                _timer ??= new Timer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
        }

        Sweep();
    }

    /// <summary>How many strays were adopted since this process started (for tests).</summary>
    public static int Adopted { get; private set; }

    /// <summary>How many adopted processes are not reaped yet (for tests).</summary>
    public static int Pending
    {
        get
        {
            lock (Sync)
            {
                return Strays.Count;
            }
        }
    }

    /// <summary>Reaps the recorded strays that have exited; stops the timer when none remains.</summary>
    public static unsafe void Sweep()
    {
        if (Disabled)
        {
            return;
        }

        lock (Sync)
        {
            Strays.RemoveWhere(pid =>
            {
                int status;
                int result;
                do
                {
                    result = LibC.waitpid(pid, &status, LibC.Wnohang);
                }
                while (result < 0 && Marshal.GetLastPInvokeError() == LibC.Eintr);

                return result != 0; // reaped, or no longer our child (ECHILD)
            });

            if (Strays.Count == 0 && _timer is not null)
            {
                _timer.Dispose();
                _timer = null;
            }
        }
    }

    /// <summary>Test hook: with true, strays are recorded but never reaped (shows what the sweep prevents).</summary>
    internal static bool Disabled { get; set; }

    private static HashSet<int> Children()
    {
        var pids = new HashSet<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    foreach (var field in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (int.TryParse(field, out var pid))
                        {
                            pids.Add(pid);
                        }
                    }
                }
                catch (IOException)
                {
                    // The thread ended, or the kernel has no CONFIG_PROC_CHILDREN: nothing found, nothing reaped.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
        catch (IOException)
        {
        }

        return pids;
    }

    private static int? SessionOf(int pid)
    {
        int sid = getsid(pid);
        return sid > 0 ? sid : null;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getsid(int pid);
}
