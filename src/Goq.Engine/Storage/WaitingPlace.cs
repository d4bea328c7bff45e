namespace Goq.Storage;

/// <summary>
/// A waiting job by its place in the queue alone: what the scheduler needs to order it and match it to workers (its
/// class: queue, slots, labels), without its command, spec or record, which stay in the store until it nears the head.
/// </summary>
public readonly record struct WaitingPlace(long Id, int Priority, string Queue, int SlotCount, string[] Require)
{
    /// <summary>
    /// A job that may be kept by its place alone: waiting for a slot and nothing else (no dependencies, no time, not an
    /// array's task, which its array keeps), so placing it again after a restart needs nothing but its place.
    /// </summary>
    public static bool IsPlain(JobInfo job) =>
        job.State == JobState.Waiting && job.DependsOn.Length == 0 && job.NotBefore is null && job.ArrayJobId is null && !job.Hold;
}
