using Goq.Configuration;
using Goq.Diagnostics;
using Goq.Errors;
using Goq.Monitoring;
using Goq.Platform;
using Goq.Server;
using Goq.Storage.Postgres;

namespace Goq.Hosting;

/// <summary>
/// Runs one of a home's servers on a PostgreSQL store several servers share. The process stands by until it can take
/// the store's lease, then loads the queue as a restart does and serves under the lease's new epoch; if it loses the
/// lease (it could not renew it in time, or another server took it while it was paused) it steps down and stands by
/// again. A clean stop gives the lease up, so a standby takes over at its next look. A standby binds no port: clients
/// and workers, connected to every listed server, reach only the one that serves.
/// </summary>
public static class SharedStoreHost
{
    /// <summary>How often a standby looks whether the lease has run out.</summary>
    public static readonly TimeSpan LookEvery = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(GoqSettings settings, Action<ServerInfo> onStarted, CancellationToken cancel)
    {
        using var serverLock = ServerHost.AcquireLock(settings);
        using var log = new JsonLog(settings.ServerLogPath, "server");
        var credentials = settings.LoadCredentials(forServer: true);
        ServerHost.CheckFallbackFolder(settings);
        if (settings.Servers.Count > 1 && settings.FallbackOutputDir is null)
        {
            log.Write(LogEntry.Warning("server.fallback_not_shared",
                "several servers are listed but no fall-back output folder is set (FallbackOutputDir): output that falls back goes to this host's home, which the other servers cannot read"));
        }

        using var db = PostgresDatabase.Open(settings.StoreConnectionString!, StorePassword(settings));
        using var metrics = settings.MetricsPort is null ? null : new ServerMetrics { Role = "standby" };
        // One listener for the process's life, standing by or serving: the role is a gauge of its own.
        using var monitor = ServerHost.StartMonitor(settings, metrics, credentials, () => new PostgresJobReader(db), log);
        var lease = new PostgresLease(db, $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}"[..^24], settings.OwnEndpoint,
            TimeSpan.FromSeconds(settings.LeaseSec), log.Write);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var terminate = TerminationSignal.OnTerminate(log.Write, stop.Cancel);
        using var keeper = new LeaseKeeper(lease, log.Write);
        var started = false;
        string? recorded = null;
        void Started(string role)
        {
            if (role != recorded)
            {
                ServerHost.WritePidFile(settings, role); // written when the role changes, not at every look of a standby
                recorded = role;
            }

            if (!started)
            {
                started = true;
                onStarted(ServerHost.Started(settings, monitor, credentials, role));
            }
        }

        log.Write(LogEntry.Info("server.shared_store", $"goq server {GoqVersion.Current} pid {Environment.ProcessId} for {settings.OwnEndpoint} on {db.Description}; " +
            $"lease {settings.LeaseSec} s, renewed every {lease.RenewEvery.TotalSeconds:0.#} s"));
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (!TryAcquire(lease, log))
                {
                    Started("Standby");
                    await Task.Delay(LookEvery, stop.Token).ConfigureAwait(false);
                    continue;
                }
                metrics?.Role = "active";
                var steppedDown = await ServeAsync(settings, credentials, db, lease, log, metrics, monitor, () => Started("Active"), stop.Token).ConfigureAwait(false);
                if (metrics is not null)
                {
                    metrics.Role = "standby";
                    metrics.Publish(MetricsSnapshot.Empty); // a standby reports no queue of its own
                }

                if (steppedDown is null)
                {
                    break; // a clean stop
                }

                log.Write(LogEntry.Warning("server.standing_by", $"stepped down ({steppedDown}); standing by to take over again"));
                Started("Standby");
                await Task.Delay(LookEvery * 3, stop.Token).ConfigureAwait(false); // a lease given up goes to a standby first
            }
        }
        catch (OperationCanceledException)
        {
            log.Write(LogEntry.Info("server.interrupted", "interrupted; stopping"));
        }
        finally
        {
            keeper.Dispose();
            lease.Release();
            ServerHost.TryDelete(settings.PidPath);
        }

        DetachedProcess.RemoveStderrIfEmpty(settings.StderrPath("server"));
    }

    /// <summary>The store's password: .goq/store.password when it exists (it must be the owner's alone), else null (PGPASSFILE decides).</summary>
    public static string? StorePassword(GoqSettings settings)
    {
        if (!File.Exists(settings.StorePasswordPath))
        {
            return null;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(settings.StorePasswordPath) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
        {
            throw new GoqException(GoqErrorIds.InvalidConfig, GoqErrorKind.Security,
                $"'{settings.StorePasswordPath}' can be read by others; make it the owner's alone (chmod 600)") { Target = settings.StorePasswordPath };
        }

        return File.ReadAllText(settings.StorePasswordPath).TrimEnd('\r', '\n');
    }

    private static bool TryAcquire(PostgresLease lease, JsonLog log)
    {
        try
        {
            return lease.TryAcquire();
        }
        // Any failure of the database's (unreachable, a lock waited for too long, a fail-over under way): look again later.
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException || ex is GoqException { ErrorId: GoqErrorIds.StoreUnavailable })
        {
            log.Write(LogEntry.Warning("lease.unreachable", $"cannot look at the store's lease: {ex.Message}"));
            return false;
        }
    }

    /// <summary>
    /// Serves under the lease until a clean stop (null) or a step-down (its reason). A store that could not be read as
    /// the server started, a commit fenced meanwhile, or the server's loop failing is a step-down too: the lease is given
    /// up for a standby (or this process, at its next look) to take, rather than the process ending.
    /// </summary>
    private static async Task<string?> ServeAsync(GoqSettings settings, ClusterCredentials credentials, PostgresDatabase db, PostgresLease lease, JsonLog log,
        ServerMetrics? metrics, MonitorEndpoint? monitor, Action serving, CancellationToken stop)
    {
        PostgresJobStore? store = null;
        GoqServer? server = null;
        try
        {
            store = new PostgresJobStore(db, lease.Epoch);
            server = new GoqServer(ServerHost.Options(settings, credentials, log, metrics, monitor) with
            {
                BindEndpoint = settings.BindEndpoint,
                Lease = lease,
                StoreKind = "PostgreSQL",
                ClusterServers = () => ClusterView(settings, lease),
            }, store);
        }
        catch (Exception ex) when (ex is Storage.StoreFencedException || StoreOutage.CauseOf(ex) is not null)
        {
            server?.Dispose();
            store?.Abandon();
            store?.Dispose();
            lease.Release();
            return $"the queue could not be loaded ({ex.Message})";
        }

        using var owned = store;
        using var running = server;
        try
        {
            server.Start();
        }
        catch (GoqException)
        {
            lease.Lose("this server could not listen on its port");
            throw;
        }

        log.Write(LogEntry.Info("server.active", $"serving as the active server, epoch {lease.Epoch}"));
        serving();
        try
        {
            await server.Completion.WaitAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            log.Write(LogEntry.Info("server.interrupted", "interrupted; stopping"));
        }
        finally
        {
            server.Stop(stop.IsCancellationRequested ? "SIGTERM" : "stopping");
        }

        if (server.SteppedDown is null && server.Failed is { } failed && !stop.IsCancellationRequested)
        {
            lease.Release(); // a bug ended the loop: another server serves meanwhile
            return $"the server's loop failed ({failed})";
        }

        return server.SteppedDown;
    }

    /// <summary>Every configured server with its role, as the servers announced themselves in the store.</summary>
    private static List<ClusterServer> ClusterView(GoqSettings settings, PostgresLease lease)
    {
        var announced = lease.Announced().ToDictionary(s => s.Endpoint, StringComparer.OrdinalIgnoreCase);
        var configured = settings.Servers.Count > 0 ? settings.Servers.Select(s => $"tcp://{s}").ToList() : [settings.OwnEndpoint];
        foreach (var extra in announced.Keys.Where(e => !configured.Contains(e, StringComparer.OrdinalIgnoreCase)))
        {
            configured.Add(extra);
        }

        return configured.Select(endpoint => new ClusterServer
        {
            Endpoint = endpoint,
            Role = endpoint.Equals(settings.OwnEndpoint, StringComparison.OrdinalIgnoreCase) ? "Active"
                : announced.TryGetValue(endpoint, out var seen) && seen.SeenAgo < lease.Duration ? seen.Role == "Active" ? "Standby" : seen.Role
                : "Down",
            SeenSecondsAgo = announced.TryGetValue(endpoint, out var last) ? Math.Round(last.SeenAgo.TotalSeconds, 1) : null,
        }).ToList();
    }

    /// <summary>
    /// Renews the lease while this server holds it, and says every few seconds that the server is there and in which
    /// role; on a thread of its own, so a busy server loop never delays a renewal. A renewal that fails is logged
    /// once per outage: the lease then runs out on its own and the server steps down at its next turn.
    /// </summary>
    private sealed class LeaseKeeper : IDisposable
    {
        private readonly PostgresLease _lease;
        private readonly Action<LogEntry> _log;
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private bool _failing;

        public LeaseKeeper(PostgresLease lease, Action<LogEntry> log)
        {
            _lease = lease;
            _log = log;
            _thread = new Thread(Run) { IsBackground = true, Name = "goq-lease" };
            _thread.Start();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return; // stopped before the lease is given up, then disposed with the rest
            }

            _stop.Cancel();
            if (_thread.Join(TimeSpan.FromSeconds(10)))
            {
                _stop.Dispose(); // else the thread (a renewal stuck on the database) still reads it: left to the collector
            }
        }

        private int _disposed;

        private void Run()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (_lease.IsHeld)
                    {
                        _lease.Renew();
                    }

                    _lease.Announce(_lease.IsHeld ? "Active" : "Standby");
                    if (_failing)
                    {
                        _failing = false;
                        _log(LogEntry.Info("lease.store_back", "the store answers again"));
                    }
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or GoqException or TimeoutException or InvalidOperationException)
                {
                    if (!_failing)
                    {
                        _failing = true;
                        _log(LogEntry.Warning("lease.renew_failed", $"cannot reach the store to renew the lease or announce this server: {ex.Message}"));
                    }
                }

                _stop.Token.WaitHandle.WaitOne(_lease.RenewEvery);
            }
        }
    }
}
