namespace Goq.Monitoring;

/// <summary>
/// The server's state at one moment, made by its loop thread and read by anyone (metrics scrapes, the dashboard):
/// immutable, so a reader on another thread never sees the scheduler half-way through a change.
/// </summary>
public sealed class MetricsSnapshot
{
    public static MetricsSnapshot Empty { get; } = new();

    public DateTimeOffset At { get; init; }

    /// <summary>Jobs by queue and state: the active ones the scheduler holds and the ended ones the store keeps.</summary>
    public IReadOnlyDictionary<(string Queue, JobState State), long> Jobs { get; init; } = new Dictionary<(string Queue, JobState State), long>();

    public IReadOnlyList<WorkerInfo> Workers { get; init; } = [];

    public int BusySlots { get; init; }

    public long Submitted { get; init; }

    public long Started { get; init; }

    /// <summary>Jobs that ended since the server started, by how they ended.</summary>
    public IReadOnlyDictionary<JobState, long> Finished { get; init; } = new Dictionary<JobState, long>();

    public long OutputBytes { get; init; }

    /// <summary>
    /// The server's status as Get-GoqServer -Detailed gives it, without state counts: endpoint, pid, version, next job
    /// id, idle slots and the counters of trouble (dead-worker resubmits, stale reports, dropped messages).
    /// </summary>
    public ServerStatus Status { get; init; } = new();

    /// <summary>How many jobs are in <paramref name="state"/>, over every queue.</summary>
    public long Count(JobState state) => Jobs.Where(j => j.Key.State == state).Sum(j => j.Value);
}
