using Goq.Configuration;
using Goq.Errors;
using Goq.Monitoring;
using Goq.Server;
using Goq.Storage;
using Goq.Platform;
using Goq.Diagnostics;
using Goq.Server.Scheduling;

namespace Goq.Hosting;

/// <summary>
/// Runs a home's server in this process: one server per home (an exclusive lock on <c>.goq/server.lock</c>, with
/// the pid in <c>.goq/server.pid</c>), logging to <c>.goq/server.log</c>, until cancelled or asked to stop.
/// </summary>
public static class ServerHost
{
    public static async Task RunAsync(GoqSettings settings, Action<ServerInfo> onStarted, CancellationToken cancel)
    {
        Server.StoreOutage.EnsureRoomToOpen(settings.DotDir, settings.Home);
        using var serverLock = AcquireLock(settings);
        using var log = new JsonLog(settings.ServerLogPath, "server");
        using var store = new SqliteJobStore(settings.DatabasePath);
        var credentials = settings.LoadCredentials(forServer: true);
        using var metrics = settings.MetricsPort is null ? null : new ServerMetrics();
        // The listener comes up before the server's socket: a taken metrics port fails the start, with nothing half-served.
        using var monitor = settings.MetricsPort is { } metricsPort
            ? MonitorEndpoint.Start(settings.MetricsAddress, metricsPort, settings.ServerHost, metrics!, DashboardToken.Derive(credentials.Secret),
                () => store.OpenReader(), log.Write)
            : null;
        using var server = new GoqServer(new GoqServerOptions
        {
            BindEndpoint = settings.BindEndpoint,
            Home = settings.Home,
            OutputDir = settings.OutputDir,
            HeartbeatMs = settings.HeartbeatSec * 1000,
            Credentials = credentials,
            ReplayWindow = settings.ReplayWindow,
            MultiUser = settings.MultiUser,
            PrivateJobs = settings.PrivateJobs,
            Scheduler = new SchedulerOptions
            {
                DeadAfter = TimeSpan.FromSeconds(settings.DeadWorkerSec),
                RestartGrace = TimeSpan.FromSeconds(settings.DeadWorkerSec),
                PrefetchHorizon = TimeSpan.FromMilliseconds(settings.PrefetchHorizonMs),
                KeepSlotsAfter = TimeSpan.FromSeconds(settings.KeepSlotsAfterSec),
            },
            Log = log.Write,
            LogPath = settings.ServerLogPath,
            StorePath = settings.DatabasePath,
            Metrics = metrics,
            MetricsUrl = monitor?.MetricsUrl,
        }, store);
        server.Start();
        using var terminate = TerminationSignal.OnTerminate(log.Write, () => server.Stop("SIGTERM")); // waiting jobs stay in the store
        try
        {
            // pid, endpoint and the process's start time: Stop-GoqServer -Force kills only this very process, never a reused pid.
            File.WriteAllText(settings.PidPath, $"{Environment.ProcessId}\n{settings.Endpoint}\n{LiveProcess.StartTicks(Environment.ProcessId)}\n");
            GoqHomeInitializer.RestrictFile(settings.PidPath);
            onStarted(new ServerInfo
            {
                Endpoint = settings.Endpoint, Pid = Environment.ProcessId, Home = settings.Home, Version = GoqVersion.Current,
                MetricsUrl = monitor?.MetricsUrl,
                DashboardUrl = monitor is null ? null : MonitorEndpoint.DashboardUrl(monitor.MetricsUrl, DashboardToken.Derive(credentials.Secret)),
            });
            await server.Completion.WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            log.Write(LogEntry.Info("server.interrupted", "interrupted; stopping"));
        }
        finally
        {
            server.Stop();
            TryDelete(settings.PidPath);
        }

        DetachedProcess.RemoveStderrIfEmpty(settings.StderrPath("server")); // a clean exit only: a failure's line goes there after this
    }

    /// <summary>The pid of the server running on this home, or null (see <see cref="ServerRecord.RunningPid"/>).</summary>
    public static int? RunningPid(GoqSettings settings) => ServerRecord.RunningPid(settings);

    /// <summary>The server recorded for this home, when it still runs (see <see cref="ServerRecord.RecordedLiveServer"/>).</summary>
    public static int? RecordedLiveServer(GoqSettings settings) => ServerRecord.RecordedLiveServer(settings);

    private static FileStream AcquireLock(GoqSettings settings)
    {
        try
        {
            // Held open for the server's life: a second server on the same home cannot take it.
            return new FileStream(settings.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (RunningPid(settings) is not { } pid)
            {
                // Not held by anyone: the home cannot be written (a read-only mount, a folder or file we may not write).
                throw new GoqException(GoqErrorIds.ServerStartFailed, GoqErrorKind.ResourceUnavailable,
                    $"cannot take the server lock '{settings.LockPath}': {ex.Message}; the home's .goq folder must be writable", ex)
                { Target = settings.Home };
            }

            throw new GoqException(GoqErrorIds.ServerAlreadyRunning, GoqErrorKind.ResourceUnavailable,
                $"a Goq server already runs on home '{settings.Home}'{(pid > 0 ? $" (pid {pid})" : "")}; stop it with Stop-GoqServer first", ex)
            { Target = settings.Home };
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
