namespace Goq.Storage;

/// <summary>
/// Reads the committed job list on a thread of its own, beside the store's owner: a page of Get-GoqJob read here never
/// stalls the scheduler. It sees what the last commit holds, never a change still staged.
/// </summary>
public interface IJobReader : IDisposable
{
    /// <summary>A page of jobs as <see cref="IJobStore.Query"/> gives it for a reply (toSend), from committed rows only.</summary>
    IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId, int limit, JobFilter? filter);

    /// <summary>
    /// The newest jobs with ids between <paramref name="afterId"/> and <paramref name="beforeId"/> (both excluded) that
    /// match, whole, newest first (the dashboard's job table).
    /// </summary>
    IReadOnlyList<JobInfo> Newest(IReadOnlyCollection<JobState>? states, long beforeId, int limit, JobFilter? filter, long afterId = 0);

    /// <summary>
    /// Fixes what this reader sees to the store as it is now (a read transaction), until <see cref="CountEnded"/>: called
    /// on the store owner's thread before it changes anything more, so the count can be taken elsewhere, later, and
    /// the changes made meanwhile added to it.
    /// </summary>
    void PinSnapshot();

    /// <summary>The ended jobs by queue and state in the pinned snapshot (or the last commit); ends the pin.</summary>
    IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded();
}
