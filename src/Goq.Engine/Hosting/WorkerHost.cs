using Goq.Configuration;
using Goq.Worker;

namespace Goq.Hosting;

/// <summary>Runs a worker in this process until it exits, is stopped, or is cancelled (then its jobs are killed).</summary>
public static class WorkerHost
{
    public static async Task RunAsync(GoqSettings settings, GoqWorkerOptions options, Action<WorkerInfo> onStarted, CancellationToken cancel)
    {
        using var log = new FileLog(Path.Combine(settings.DotDir, $"worker.{options.WorkerId[..Math.Min(8, options.WorkerId.Length)]}.log"));
        using var worker = new GoqWorker(options with { Log = log.Write, LedgerDirectory = options.LedgerDirectory ?? Path.Combine(settings.DotDir, "run") });
        worker.Start();
        onStarted(new WorkerInfo
        {
            Id = worker.Id,
            Host = Environment.MachineName,
            Pid = Environment.ProcessId,
            Slots = options.Slots,
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
            log.Write("interrupted; killing running jobs and exiting");
        }
        finally
        {
            worker.Stop();
        }
    }
}
