using System.Runtime.InteropServices;
using Goq.Diagnostics;

namespace Goq.Hosting;

/// <summary>
/// SIGTERM (systemd's stop, docker stop, kill) asks a role running in the foreground to stop cleanly instead of the
/// runtime's default of exiting on the spot: the server commits and closes, a worker finishes its running jobs and
/// takes no more (its unit's stop timeout bounds the wait). Disposing the registration gives the default back.
/// </summary>
public static class TerminationSignal
{
    /// <summary>Calls <paramref name="stop"/> (on a thread of its own, once) when SIGTERM arrives; null where there is no SIGTERM.</summary>
    public static IDisposable? OnTerminate(Action<LogEntry> log, Action stop)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var once = 0;
        return PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true; // we stop ourselves, cleanly; the process then exits with 0
            if (Interlocked.Exchange(ref once, 1) == 0)
            {
                log(LogEntry.Info("signal.sigterm", "SIGTERM: stopping cleanly"));
                _ = Task.Run(stop);
            }
        });
    }
}
