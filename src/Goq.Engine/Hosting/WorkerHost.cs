using Goq.Configuration;
using Goq.Worker;
using Goq.Diagnostics;

namespace Goq.Hosting;

/// <summary>Runs a worker in this process until it exits, is stopped, or is cancelled (then its jobs are killed).</summary>
public static class WorkerHost
{
    public static async Task RunAsync(GoqSettings settings, GoqWorkerOptions options, Action<WorkerInfo> onStarted, CancellationToken cancel)
    {
        using var log = new JsonLog(settings.WorkerLogPath, options.Keeper is null ? "worker" : "keeper", options.WorkerId);
        using var worker = new GoqWorker(options with { Log = log.Write, LedgerDirectory = options.LedgerDirectory ?? Path.Combine(settings.DotDir, "run") });
        // The process the server sees (a keeper is found by its own file), recorded before the server can list it:
        // Stop-GoqWorker -Local and Start-GoqWorker find it here.
        using var registered = options.Keeper is null
            ? LocalWorkers.Register(settings, options.WorkerId, new WorkerCapacity(options.Slots, options.Prefetch, options.Queues, options.Labels), options.OneShot)
            : null;
        worker.Start();
        using var terminate = TerminationSignal.OnTerminate(log.Write, () => worker.Stop(drain: true));
        onStarted(new WorkerInfo
        {
            Id = worker.Id,
            Host = Environment.MachineName,
            Pid = Environment.ProcessId,
            Slots = options.Slots,
            Prefetch = options.EffectivePrefetch,
            ConnectedAt = DateTimeOffset.UtcNow,
            LastSeen = DateTimeOffset.UtcNow,
            Version = GoqVersion.Current,
        });
        try
        {
            await worker.Completion.WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            log.Write(LogEntry.Info("worker.interrupted", "interrupted; killing running jobs and exiting"));
        }
        finally
        {
            worker.Stop();
        }

        // A clean exit only: a failure's line is written there after this, for whoever started us.
        DetachedProcess.RemoveStderrIfEmpty(settings.StderrPath($"{(options.Keeper is null ? "worker" : "keeper")}.{options.WorkerId[..Math.Min(8, options.WorkerId.Length)]}"));
    }

    /// <summary>
    /// Runs this process as the relay of a worker whose jobs a job keeper holds: it takes over a keeper on this host that
    /// lost its relay (a worker killed and started again keeps its jobs), or starts a keeper for a new worker.
    /// </summary>
    public static async Task RunWithKeeperAsync(GoqSettings settings, string workerId, WorkerCapacity capacity, IRoleCommands roles,
        Action<WorkerInfo> onStarted, CancellationToken cancel)
    {
        using var log = new JsonLog(settings.WorkerLogPath, "relay", workerId);
        var credentials = settings.LoadCredentials();
        var relay = WorkerRelay.Adopt(settings, credentials, log.Write);
        DetachedProcess? started = null;
        if (relay is null)
        {
            var keeper = started = DetachedProcess.Start(roles.Keeper(settings, workerId, capacity), settings.StderrPath($"keeper.{workerId[..Math.Min(8, workerId.Length)]}"));
            relay = await WorkerRelay.AttachAsync(settings, credentials, WorkerRelay.InfoPath(settings, workerId), () => keeper.HasExited, log.Write, cancel).ConfigureAwait(false);
        }

        using (relay)
        {
            log.Write(LogEntry.Info("relay.started", $"goq worker relay pid {Environment.ProcessId} for worker {relay.Keeper.WorkerId} (keeper pid {relay.Keeper.Pid}) serving {settings.Endpoint}",
                worker: relay.Keeper.WorkerId));
            onStarted(new WorkerInfo
            {
                Id = relay.Keeper.WorkerId,
                Host = Environment.MachineName,
                Pid = Environment.ProcessId,
                Slots = relay.Keeper.Slots,
                ConnectedAt = DateTimeOffset.UtcNow,
                LastSeen = DateTimeOffset.UtcNow,
                Version = GoqVersion.Current,
            });
            // The keeper holds the jobs: SIGTERM tells it to finish them and exit, and this relay ends with it.
            using var terminate = TerminationSignal.OnTerminate(log.Write, relay.Drain);
            using var registered = LocalWorkers.Register(settings, relay.Keeper.WorkerId, capacity with { Slots = relay.Keeper.Slots }, oneShot: false);
            await relay.RunAsync(cancel).ConfigureAwait(false);
        }

        // A keeper this relay started that failed (refused credentials, say) fails the worker with its reason. The
        // relay sees it gone as soon as it is a zombie: wait until it is reaped, or its exit code is not known yet.
        started?.WaitForExit(TimeSpan.FromSeconds(5));
        if (started is { ExitCode: not null and not 0 })
        {
            var failure = started.FatalError(Errors.GoqErrorIds.WorkerStartFailed, "job keeper");
            log.Write(LogEntry.Error("keeper.failed", $"the job keeper failed: {failure.Message}"));
            throw failure;
        }

        DetachedProcess.RemoveStderrIfEmpty(settings.StderrPath($"worker.{workerId[..Math.Min(8, workerId.Length)]}"));
    }
}
