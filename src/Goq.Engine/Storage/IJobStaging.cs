namespace Goq.Storage;

/// <summary>
/// What the scheduler may do with the store: stage changes, which stay in memory until the server commits them, and
/// read what the store keeps in memory anyway (the next id, the counters, recent batch ids). Nothing here touches the
/// disk: the one read of the store about the scheduler's jobs (<see cref="IWaitingJobReader"/>) is the server's to make,
/// around the scheduler's events.
/// </summary>
public interface IJobStaging
{
    /// <summary>The id the next submitted job gets. Ids start at 1 and are never reused.</summary>
    long NextJobId { get; }

    /// <summary>Counters that survive restarts (finished, cancelled, dead-worker resubmits), to read: they change through <see cref="Count"/>.</summary>
    StoreCounters Counters { get; }

    /// <summary>Stages one more of a counter that survives restarts.</summary>
    void Count(StoreCounter counter);

    /// <summary>Stages a queue's run limit (0: none), kept across restarts.</summary>
    void SetQueueLimit(string queue, int limit);

    /// <summary>Reserves <paramref name="count"/> consecutive ids and returns the first.</summary>
    long AllocateIds(int count);

    void Insert(JobInfo job, JobSpec spec);

    void Update(JobInfo job);

    /// <summary>Stages an array job's own record and its spec (indices and all), once: its tasks are stored as they are made.</summary>
    void InsertArray(JobInfo array, JobSpec spec);

    /// <summary>Stages a change of an array job's own record (its state, priority, hold).</summary>
    void UpdateArray(JobInfo array);

    /// <summary>Records a submitted batch's client-chosen id and its jobs (ids first .. first + count - 1), with the jobs' commit.</summary>
    void RecordBatch(string batchId, long firstId, int count, DateTimeOffset at);

    /// <summary>The jobs a batch id was given, if it was recorded recently enough to be remembered.</summary>
    (long FirstId, int Count)? FindBatch(string batchId);
}

/// <summary>
/// The one read the scheduler makes of the store: waiting jobs it keeps only by their place in the queue (see
/// <see cref="Server.Scheduling.SchedulerOptions.WholeWaitingJobs"/>), read back whole as they near the head or when a
/// user names them. The server's loop makes it, between the scheduler's events (Scheduler.ReadBack, ReadAhead).
/// </summary>
public interface IWaitingJobReader
{
    /// <summary>
    /// The jobs with these ids as they are now (staged, else stored), with their specs, each a record of the caller's
    /// own. An id the store does not hold is left out.
    /// </summary>
    IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadJobs(IReadOnlyCollection<long> ids);
}
