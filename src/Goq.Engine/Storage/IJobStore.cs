namespace Goq.Storage;

/// <summary>
/// Where the server keeps jobs. Changes are staged by <see cref="Insert"/> and <see cref="Update"/> and become
/// durable at <see cref="Commit"/>; the server acknowledges nothing before the commit that holds it.
/// Owned by the server's scheduler thread: implementations need not be thread-safe.
/// </summary>
public interface IJobStore : IDisposable
{
    /// <summary>The id the next submitted job gets. Ids start at 1 and are never reused.</summary>
    long NextJobId { get; }

    /// <summary>Counters that survive restarts (finished, cancelled, dead-worker resubmits).</summary>
    StoreCounters Counters { get; }

    /// <summary>Reserves <paramref name="count"/> consecutive ids and returns the first.</summary>
    long AllocateIds(int count);

    void Insert(JobInfo job, JobSpec spec);

    void Update(JobInfo job);

    JobInfo? Get(long id);

    JobSpec? GetSpec(long id);

    /// <summary>
    /// Jobs with any of the ids (null: all) and any of the states (null: all), ordered by id: those with an id above
    /// <paramref name="afterId"/>, at most <paramref name="limit"/> of them (a page).
    /// </summary>
    IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId = 0, int limit = int.MaxValue);

    /// <summary>Records a submitted batch's client-chosen id and its jobs (ids first .. first + count - 1), with the jobs' commit.</summary>
    void RecordBatch(string batchId, long firstId, int count, DateTimeOffset at);

    /// <summary>The jobs a batch id was given, if it was recorded recently enough to be remembered.</summary>
    (long FirstId, int Count)? FindBatch(string batchId);

    /// <summary>Waiting and running jobs, ordered by id, to rebuild the queue after a restart.</summary>
    IReadOnlyList<JobInfo> LoadActive();

    /// <summary>Forgets finished jobs (Remove-GoqJob); returns the ids that were removed.</summary>
    IReadOnlyList<long> Remove(IReadOnlyCollection<long> ids);

    void SaveOutputIndex(long id, OutputIndex index);

    OutputIndex? GetOutputIndex(long id);

    /// <summary>Makes every staged change durable, in one transaction.</summary>
    void Commit();
}
