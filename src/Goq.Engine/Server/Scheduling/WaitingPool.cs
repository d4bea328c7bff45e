namespace Goq.Server.Scheduling;

/// <summary>
/// Every job waiting for a slot, kept by class (<see cref="JobClass"/>): each class is a <see cref="WaitingQueue"/>,
/// and all share one order (priority, then first come first served), so the best job a worker can run is the best of
/// a few class heads. Owned by the scheduler thread.
/// </summary>
internal sealed class WaitingPool
{
    private readonly Dictionary<string, JobClass> _classes = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (JobClass Class, TimeSpan Since)> _jobs = new();
    private long _front;

    public int Count => _jobs.Count;

    /// <summary>The classes with a job waiting.</summary>
    public IEnumerable<JobClass> Classes => _classes.Values;

    public bool Contains(long id) => _jobs.ContainsKey(id);

    /// <summary>The class a waiting job is in, or null.</summary>
    public JobClass? ClassOf(long id) => _jobs.TryGetValue(id, out var entry) ? entry.Class : null;

    /// <summary>Since when the job waits for a slot, on the scheduler's steady clock (<see cref="Timing.Instant.Steady"/>).</summary>
    public TimeSpan? Since(long id) => _jobs.TryGetValue(id, out var entry) ? entry.Since : null;

    /// <summary>Queues a job in its place (by priority, then id); <paramref name="front"/> puts it ahead of the others of its priority.</summary>
    public void Add(JobInfo job, TimeSpan since, bool front = false)
    {
        Remove(job.Id);
        var (key, require, throttles) = JobClass.Of(job);
        if (!_classes.TryGetValue(key, out var jobClass))
        {
            jobClass = new JobClass(key, job.Queue, Math.Max(1, job.SlotCount), require, throttles, job.Owner);
            _classes[key] = jobClass;
        }

        jobClass.Jobs.AddAt(job.Id, job.Priority, front ? long.MinValue / 2 + --_front : job.Id);
        _jobs[job.Id] = (jobClass, since);
    }

    public bool Remove(long id)
    {
        if (!_jobs.Remove(id, out var entry))
        {
            return false;
        }

        entry.Class.Jobs.Remove(id);
        if (entry.Class.Jobs.Count == 0)
        {
            _classes.Remove(entry.Class.Key);
        }

        return true;
    }

    public void Reprioritize(long id, int priority)
    {
        if (_jobs.TryGetValue(id, out var entry))
        {
            entry.Class.Jobs.Reprioritize(id, priority);
        }
    }

    /// <summary>Orders class heads: higher priority first, then the earlier place.</summary>
    public static int Compare((int Priority, long Seq, long Id) a, (int Priority, long Seq, long Id) b)
    {
        var byPriority = b.Priority.CompareTo(a.Priority);
        return byPriority != 0 ? byPriority : a.Seq != b.Seq ? a.Seq.CompareTo(b.Seq) : a.Id.CompareTo(b.Id);
    }
}
