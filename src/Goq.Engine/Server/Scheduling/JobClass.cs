namespace Goq.Server.Scheduling;

/// <summary>
/// Waiting jobs that any worker either can or cannot run alike: the same queue, slot count, required labels,
/// throttles and owner (a user's own worker runs only their jobs). Matching a worker is decided once per class, not per job, so a queue of a million jobs of a few kinds
/// costs a few checks per dispatch. Owned by the scheduler thread.
/// </summary>
internal sealed class JobClass(string key, string queue, int slotCount, string[] require, string[] throttles, string owner = "")
{
    public string Key { get; } = key;

    public string Queue { get; } = queue;

    public int SlotCount { get; } = slotCount;

    /// <summary>Labels, sorted and distinct.</summary>
    public string[] Require { get; } = require;

    /// <summary>The run limits its jobs count against (see <see cref="RunLimits"/>).</summary>
    public string[] Throttles { get; } = throttles;

    /// <summary>Whose jobs these are.</summary>
    public string Owner { get; } = owner;

    public WaitingQueue Jobs { get; } = new();

    /// <summary>
    /// Whether <paramref name="worker"/> could ever run these jobs: it serves the queue, has every label and enough
    /// slots, and runs anyone's jobs or this owner's.
    /// </summary>
    public bool Fits(WorkerEntry worker) =>
        worker.Queues.Contains(Queue) && SlotCount <= worker.Slots && Require.All(worker.Labels.Contains)
        && (worker.OnlyOwner is null || string.Equals(worker.OnlyOwner, Owner, StringComparison.Ordinal));

    /// <summary>The class a job belongs to.</summary>
    public static (string Key, string[] Require, string[] Throttles) Of(JobInfo job)
    {
        var require = job.Require.Length == 0 ? [] : job.Require.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        // A task of an array counts against the array's throttle too, so each array is a class of its own.
        string[] throttles = job.ArrayJobId is { } array ? [RunLimits.QueueKey(job.Queue), RunLimits.ArrayKey(array)] : [RunLimits.QueueKey(job.Queue)];
        var key = $"{job.Queue}\u0001{job.SlotCount}\u0001{string.Join(',', require)}\u0001{job.ArrayJobId}\u0001{job.Owner}";
        return (key, require, throttles);
    }
}
