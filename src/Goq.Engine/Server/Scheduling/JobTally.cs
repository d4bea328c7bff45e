namespace Goq.Server.Scheduling;

/// <summary>
/// The ended jobs the store holds, by state and queue, kept as jobs end, restart and are removed, so the metrics'
/// <c>goq_jobs{state,queue}</c> never counts a million rows; and the counts since this server started (submitted,
/// started, ended by outcome). Owned by the server's loop thread, like the scheduler that feeds it.
/// </summary>
public sealed class JobTally
{
    private readonly Dictionary<(string Queue, JobState State), long> _stored = new();
    private readonly Dictionary<JobState, long> _ended = new();

    /// <summary>Whether the stored ended jobs were counted (<see cref="Load"/>): until then only the changes are known.</summary>
    public bool Loaded { get; private set; }

    public long Submitted { get; set; }

    public long Started { get; private set; }

    /// <summary>Ended jobs in the store by queue and state.</summary>
    public IReadOnlyDictionary<(string Queue, JobState State), long> Stored => _stored;

    /// <summary>Jobs that ended since the server started, by how they ended.</summary>
    public IReadOnlyDictionary<JobState, long> Ended => _ended;

    /// <summary>Starts from the store's counts; the changes seen before are kept on top of them.</summary>
    public void Load(IEnumerable<(string Queue, JobState State, long Count)> stored)
    {
        foreach (var (queue, state, count) in stored)
        {
            Add(queue, state, count);
        }

        Loaded = true;
    }

    /// <summary>A run's process started (counted once a run, by its first report of it).</summary>
    public void JobStarted() => Started++;

    public void JobEnded(JobInfo job)
    {
        Add(job.Queue, job.State, 1);
        _ended[job.State] = _ended.GetValueOrDefault(job.State) + 1;
    }

    /// <summary>An ended job runs again (Restart-GoqJob): it no longer counts where it ended.</summary>
    public void JobReopened(string queue, JobState endedAs) => Add(queue, endedAs, -1);

    public void JobRemoved(string queue, JobState state) => Add(queue, state, -1);

    private void Add(string queue, JobState state, long count)
    {
        var key = (queue, state);
        var now = _stored.GetValueOrDefault(key) + count;
        if (now == 0)
        {
            _stored.Remove(key);
        }
        else
        {
            _stored[key] = now;
        }
    }
}
