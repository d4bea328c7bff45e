using System.Collections.Concurrent;

namespace Goq.Worker;

/// <summary>A job a worker is running: its lease, its kill switch and the output not yet sent.</summary>
internal sealed class RunningJob(long jobId, int attempt)
{
    public long JobId { get; } = jobId;

    public int Attempt { get; } = attempt;

    public CancellationTokenSource Cancel { get; } = new();

    /// <summary>Filled by the runner's reader, drained by the worker's socket thread.</summary>
    public ConcurrentQueue<OutputLine> Pending { get; } = new();
}
