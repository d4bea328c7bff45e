namespace Goq.Storage;

/// <summary>Server counters kept with the jobs, so they survive restarts.</summary>
public sealed class StoreCounters
{
    public long FinishedJobs { get; set; }

    public long CancelledJobs { get; set; }

    public long DeadWorkerResubmits { get; set; }
}
