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
        if (settings.StoreConnectionString is not null)
        {
            await SharedStoreHost.RunAsync(settings, onStarted, cancel).ConfigureAwait(false);
            return;
        }

        if (settings.Servers.Count > 1)
        {
            throw new GoqException(GoqErrorIds.InvalidConfig, GoqErrorKind.InvalidArgument,
                $"the home lists {settings.Servers.Count} servers, but its jobs are in a SQLite file only one server can use; " +
                "give it a PostgreSQL store (Initialize-GoqHome -StoreConnectionString) or list one server") { Target = settings.Home };
        }

        Server.StoreOutage.EnsureRoomToOpen(settings.DotDir, settings.Home);
        using var serverLock = AcquireLock(settings);
        using var log = new JsonLog(settings.ServerLogPath, "server");
        using var store = new SqliteJobStore(settings.DatabasePath);
        var credentials = settings.LoadCredentials(forServer: true);
        CheckFallbackFolder(settings);
        using var metrics = settings.MetricsPort is null ? null : new ServerMetrics();
        // The listener comes up before the server's socket: a taken metrics port fails the start, with nothing half-served.
        using var monitor = StartMonitor(settings, metrics, credentials, () => store.OpenReader(), log);
        using var server = new GoqServer(Options(settings, credentials, log, metrics, monitor) with { StorePath = settings.DatabasePath }, store);
        server.Start();
        using var terminate = TerminationSignal.OnTerminate(log.Write, () => server.Stop("SIGTERM")); // waiting jobs stay in the store
        try
        {
            WritePidFile(settings, "Active");
            onStarted(Started(settings, monitor, credentials, "Active"));
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

    /// <summary>The server's options from the home's settings (the parts every store shares).</summary>
    internal static GoqServerOptions Options(GoqSettings settings, ClusterCredentials credentials, JsonLog log, ServerMetrics? metrics, MonitorEndpoint? monitor) => new()
    {
        BindEndpoint = settings.BindEndpoint,
        Home = settings.Home,
        FallbackOutputRoot = settings.FallbackOutputDir,
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
        Metrics = metrics,
        MetricsUrl = monitor?.MetricsUrl,
    };

    internal static MonitorEndpoint? StartMonitor(GoqSettings settings, ServerMetrics? metrics, ClusterCredentials credentials, Func<IJobReader?> reader, JsonLog log) =>
        settings.MetricsPort is { } metricsPort
            ? MonitorEndpoint.Start(settings.MetricsAddress, metricsPort, settings.ServerHost, metrics!, DashboardToken.Derive(credentials.Secret), reader, log.Write)
            : null;

    internal static ServerInfo Started(GoqSettings settings, MonitorEndpoint? monitor, ClusterCredentials credentials, string role) => new()
    {
        Endpoint = settings.OwnEndpoint, Pid = Environment.ProcessId, Home = settings.Home, Version = GoqVersion.Current, Role = role,
        MetricsUrl = monitor?.MetricsUrl,
        DashboardUrl = monitor is null ? null : MonitorEndpoint.DashboardUrl(monitor.MetricsUrl, DashboardToken.Derive(credentials.Secret)),
    };

    /// <summary>
    /// pid, endpoint, the process's start time and its role: Stop-GoqServer -Force kills only this very process, never a
    /// reused pid, and Start-GoqServer tells a standby that is up from one still starting.
    /// </summary>
    internal static void WritePidFile(GoqSettings settings, string role)
    {
        var temporary = settings.PidPath + ".new";
        File.WriteAllText(temporary, $"{Environment.ProcessId}\n{settings.OwnEndpoint}\n{LiveProcess.StartTicks(Environment.ProcessId)}\n{role}\n");
        GoqHomeInitializer.RestrictFile(temporary);
        File.Move(temporary, settings.PidPath, overwrite: true);
    }

    /// <summary>Refuses to start with a fall-back output folder this server cannot write: output would have nowhere to go.</summary>
    internal static void CheckFallbackFolder(GoqSettings settings)
    {
        if (settings.FallbackOutputDir is not { } root)
        {
            return;
        }

        var folder = Path.Combine(root, settings.OutputDir);
        var probe = Path.Combine(folder, $".goq-write-check-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GoqException(GoqErrorIds.ServerStartFailed, GoqErrorKind.NotWritable,
                $"the fall-back output folder '{folder}' cannot be written ({ex.Message}); with several servers it must be on storage they all share and may write",
                ex) { Target = folder };
        }
    }

    /// <summary>The pid of the server running on this home, or null (see <see cref="ServerRecord.RunningPid"/>).</summary>
    public static int? RunningPid(GoqSettings settings) => ServerRecord.RunningPid(settings);

    /// <summary>The server recorded for this home, when it still runs (see <see cref="ServerRecord.RecordedLiveServer"/>).</summary>
    public static int? RecordedLiveServer(GoqSettings settings) => ServerRecord.RecordedLiveServer(settings);

    internal static FileStream AcquireLock(GoqSettings settings)
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

    internal static void TryDelete(string path)
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
