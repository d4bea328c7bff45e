namespace Goq.Storage;

/// <summary>
/// Where the server keeps jobs. Changes are staged by <see cref="Insert"/> and <see cref="Update"/> and become
/// durable at <see cref="Commit"/>; the server acknowledges nothing before the commit that holds it.
/// Owned by the server's scheduler thread: implementations need not be thread-safe.
/// </summary>
public interface IJobStore : IJobStaging, IWaitingJobReader, IDisposable
{
    JobInfo? Get(long id);

    JobSpec? GetSpec(long id);

    /// <summary>
    /// Jobs with any of the ids (null: all) and any of the states (null: all) that match <paramref name="filter"/>,
    /// ordered by id: those with an id above <paramref name="afterId"/>, at most <paramref name="limit"/> of them (a page).
    /// </summary>
    /// <param name="toSend">The jobs only go out in a reply (a page of Get-GoqJob): a job that is not waiting may come as
    /// its id, state and stored JSON alone, to be sent on as stored.</param>
    IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId = 0, int limit = int.MaxValue,
        JobFilter? filter = null, bool toSend = false);

    /// <summary>How many jobs are in each of <paramref name="states"/>, staged changes included.</summary>
    IReadOnlyDictionary<JobState, long> CountStates(IReadOnlyCollection<JobState> states);

    /// <summary>
    /// The ended jobs by queue and state, committed changes only: read once, when the server starts with metrics on
    /// (it reads every ended row's queue, so it is not for every turn; the server keeps the counts from there).
    /// </summary>
    IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded();

    /// <summary>Waiting and running jobs with their specs, ordered by id, to rebuild the queue after a restart.</summary>
    IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadActive();

    /// <summary>
    /// <see cref="LoadActive()"/> for a large queue: every active job whole, except that plain waiting jobs (no
    /// dependencies, time or array) past the first <paramref name="wholeWaiting"/> come only as their place in the queue.
    /// </summary>
    (IReadOnlyList<(JobInfo Job, JobSpec Spec)> Whole, IReadOnlyList<WaitingPlace> Places) LoadActive(int wholeWaiting);

    /// <summary>An array job's own record and spec, or null.</summary>
    (JobInfo Array, JobSpec Spec)? GetArray(long id);

    /// <summary>The array jobs that have not ended, each with the tasks made so far (id and state), to rebuild them after a restart.</summary>
    IReadOnlyList<(JobInfo Array, JobSpec Spec, IReadOnlyList<(long Id, JobState State)> Tasks)> LoadActiveArrays();

    /// <summary>Forgets an ended array job's own record, once its tasks are removed.</summary>
    void RemoveArray(long id);

    /// <summary>Forgets finished jobs (Remove-GoqJob); returns the ids that were removed.</summary>
    IReadOnlyList<long> Remove(IReadOnlyCollection<long> ids);

    void SaveOutputIndex(long id, OutputIndex index);

    OutputIndex? GetOutputIndex(long id);

    /// <summary>Whether anything is staged that <see cref="Commit"/> would write.</summary>
    bool HasChanges { get; }

    /// <summary>Makes every staged change durable, in one transaction.</summary>
    void Commit();

    /// <summary>
    /// Forgets what is staged and stores nothing more, not even when disposed: for a server that steps down for
    /// another (its lease is gone), whose staged decisions the server that serves next makes again.
    /// </summary>
    void Abandon();

    /// <summary>A reader of committed pages for another thread (see <see cref="IJobReader"/>), or null when the store has none.</summary>
    IJobReader? OpenReader();
}
