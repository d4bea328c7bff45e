namespace Goq.Storage;

/// <summary>Server counters and settings kept with the jobs, so they survive restarts.</summary>
public sealed class StoreCounters
{
    /// <summary>Each queue's cap on its running jobs (Set-GoqQueue -ThrottleLimit); 0 or absent for none.</summary>
    public Dictionary<string, int> QueueLimits { get; } = new(StringComparer.Ordinal);

    /// <summary>Raised on every change of a setting above, so the next commit writes it even with no job changed.</summary>
    public int SettingsVersion { get; set; }

    public long FinishedJobs { get; set; }

    public long CancelledJobs { get; set; }

    public long DeadWorkerResubmits { get; set; }
}
