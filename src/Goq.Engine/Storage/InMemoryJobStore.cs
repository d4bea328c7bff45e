namespace Goq.Storage;

/// <summary>
/// A store that forgets everything when the process exits; for tests. Like the SQLite store it never shares a record
/// with the scheduler: what it is given is a copy (the scheduler stages copies), and what it gives back is one.
/// </summary>
public sealed class InMemoryJobStore : IJobStore
{
    private readonly SortedDictionary<long, (JobInfo Job, JobSpec Spec)> _jobs = new();
    private readonly Dictionary<long, OutputIndex> _outputs = new();
    private readonly BatchMemory _batches = new();
    private readonly Dictionary<long, (JobInfo Array, JobSpec Spec)> _arrays = new();
    private long _nextJobId = 1;

    public long NextJobId => _nextJobId;

    public StoreCounters Counters { get; } = new();

    public void Count(StoreCounter counter) => Counters.Count(counter);

    public void SetQueueLimit(string queue, int limit) => Counters.SetQueueLimit(queue, limit);

    public long AllocateIds(int count)
    {
        var first = _nextJobId;
        _nextJobId += count;
        return first;
    }

    public void Insert(JobInfo job, JobSpec spec) => _jobs.Add(job.Id, (job, spec));

    public void Update(JobInfo job) => _jobs[job.Id] = (job, _jobs[job.Id].Spec);

    public void InsertArray(JobInfo array, JobSpec spec) => _arrays[array.Id] = (array, spec);

    public void UpdateArray(JobInfo array) => _arrays[array.Id] = (array, _arrays[array.Id].Spec);

    public (JobInfo Array, JobSpec Spec)? GetArray(long id) => _arrays.TryGetValue(id, out var entry) ? entry : null;

    public IReadOnlyList<(JobInfo Array, JobSpec Spec, IReadOnlyList<(long Id, JobState State)> Tasks)> LoadActiveArrays() =>
        _arrays.Values.Where(a => !a.Array.State.IsTerminal()).OrderBy(a => a.Array.Id)
            .Select(a => (a.Array.Clone(), a.Spec, (IReadOnlyList<(long, JobState)>)_jobs.Values.Where(j => j.Job.ArrayJobId == a.Array.Id).Select(j => (j.Job.Id, j.Job.State)).ToList()))
            .ToList();

    public void RemoveArray(long id) => _arrays.Remove(id);

    public JobInfo? Get(long id) => _jobs.TryGetValue(id, out var entry) ? entry.Job : null;

    public JobSpec? GetSpec(long id) => _jobs.TryGetValue(id, out var entry) ? entry.Spec : null;

    public IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId = 0, int limit = int.MaxValue,
        JobFilter? filter = null, bool toSend = false)
    {
        IEnumerable<JobInfo> found = ids is null
            ? _jobs.Values.Select(e => e.Job)
            : ids.Distinct().Order().Select(Get).OfType<JobInfo>();
        return found.Where(j => j.Id > afterId && (states is null || states.Contains(j.State)) && (filter?.Matches(j) ?? true)).Take(limit).ToList();
    }

    public IReadOnlyDictionary<JobState, long> CountStates(IReadOnlyCollection<JobState> states) =>
        _jobs.Values.Where(e => states.Contains(e.Job.State)).GroupBy(e => e.Job.State).ToDictionary(g => g.Key, g => (long)g.LongCount());

    public IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded() =>
        _jobs.Values.Where(e => e.Job.State.IsTerminal()).GroupBy(e => (e.Job.Queue, e.Job.State)).Select(g => (g.Key.Queue, g.Key.State, g.LongCount())).ToList();

    public void RecordBatch(string batchId, long firstId, int count, DateTimeOffset at) => _batches.Remember(batchId, firstId, count);

    public (long FirstId, int Count)? FindBatch(string batchId) => _batches.Find(batchId);

    public IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadActive() =>
        _jobs.Values.Where(e => !e.Job.State.IsTerminal()).Select(e => (e.Job.Clone(), e.Spec)).ToList();

    public (IReadOnlyList<(JobInfo Job, JobSpec Spec)> Whole, IReadOnlyList<WaitingPlace> Places) LoadActive(int wholeWaiting)
    {
        var whole = new List<(JobInfo, JobSpec)>();
        var places = new List<WaitingPlace>();
        foreach (var (job, spec) in LoadActive().OrderBy(e => e.Job.Id))
        {
            if (WaitingPlace.IsPlain(job) && wholeWaiting-- <= 0)
            {
                places.Add(new WaitingPlace(job.Id, job.Priority, job.Queue, job.SlotCount, job.Require));
            }
            else
            {
                whole.Add((job, spec));
            }
        }

        return (whole, places);
    }

    public IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadJobs(IReadOnlyCollection<long> ids) =>
        ids.Where(_jobs.ContainsKey).Select(id => (_jobs[id].Job.Clone(), _jobs[id].Spec)).ToList();

    public IReadOnlyList<long> Remove(IReadOnlyCollection<long> ids)
    {
        var removed = ids.Where(id => _jobs.TryGetValue(id, out var e) && e.Job.State.IsTerminal()).ToList();
        removed.ForEach(id => _jobs.Remove(id));
        removed.ForEach(id => _outputs.Remove(id));
        return removed;
    }

    public void SaveOutputIndex(long id, OutputIndex index) => _outputs[id] = index;

    public OutputIndex? GetOutputIndex(long id) => _outputs.GetValueOrDefault(id);

    public bool HasChanges => false; // nothing to make durable

    public void Commit()
    {
    }

    public void Abandon()
    {
    }

    public IJobReader? OpenReader() => null; // pages are read on the owner's thread

    public void Dispose()
    {
    }
}
