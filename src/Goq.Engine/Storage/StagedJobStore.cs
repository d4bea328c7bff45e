using System.Text.Json;
using Goq.Protocol;

namespace Goq.Storage;

// Over 400 lines: the one place staged changes meet stored rows, for every read the server makes and the commit; about
// a quarter is the row methods a database implements, each with its contract. Environments are StoredEnvironments',
// the rows' shapes StoreRows'.
/// <summary>
/// What every durable store does the same way, whatever database holds the rows: changes are staged in memory and
/// written by <see cref="Commit"/> in one transaction (the server's group commit); reads merge what is staged over what
/// is stored; submitters' environments are stored once per distinct content; ids, counters and batch ids are kept in
/// memory and written with the jobs. A subclass (<see cref="SqliteJobStore"/>, <see cref="PostgresJobStore"/>) gives
/// the rows: it reads them and writes a <see cref="CommitSet"/> in one transaction, and knows nothing of staging.
/// Owned by the server's scheduler thread.
/// </summary>
public abstract class StagedJobStore : IJobStore
{
    private const string QueueLimitKey = "queue_limit:";
    private const string UserKey = "user:";

    private readonly Dictionary<long, (JobInfo Job, JobSpec? Spec)> _dirty = new();
    private readonly Dictionary<long, OutputIndex> _dirtyOutputs = new();
    private readonly Dictionary<long, (JobInfo Array, JobSpec? Spec)> _dirtyArrays = new();
    private readonly StoredEnvironments _environments;
    private readonly Dictionary<string, string> _writtenMeta = new(StringComparer.Ordinal);
    private readonly BatchMemory _batches = new();
    private readonly List<StoredBatch> _newBatches = [];

    // Every array's id, so asking whether an id is an array (every id a client names is asked) costs no query.
    private readonly HashSet<long> _arrayIds = [];
    private long _nextJobId = 1;
    private int _writtenSettings;

    protected StagedJobStore() => _environments = new StoredEnvironments(key => ReadEnvironment(key));
    private bool _counted;
    private bool _abandoned;

    public long NextJobId => _nextJobId;

    public StoreCounters Counters { get; } = new();

    public void Count(StoreCounter counter)
    {
        Counters.Count(counter);
        _counted = true; // written by the next commit, even with nothing else staged
    }

    public void SetQueueLimit(string queue, int limit) => Counters.SetQueueLimit(queue, limit);

    public long AllocateIds(int count)
    {
        var first = _nextJobId;
        _nextJobId += count;
        return first;
    }

    public void Insert(JobInfo job, JobSpec spec) => _dirty[job.Id] = (job, spec);

    public void Update(JobInfo job) =>
        _dirty[job.Id] = (job, _dirty.TryGetValue(job.Id, out var staged) ? staged.Spec : null);

    public void InsertArray(JobInfo array, JobSpec spec)
    {
        _dirtyArrays[array.Id] = (array, spec);
        _arrayIds.Add(array.Id);
    }

    public void UpdateArray(JobInfo array) =>
        _dirtyArrays[array.Id] = (array, _dirtyArrays.TryGetValue(array.Id, out var staged) ? staged.Spec : null);

    public void RecordBatch(string batchId, long firstId, int count, DateTimeOffset at)
    {
        _batches.Remember(batchId, firstId, count);
        _newBatches.Add(new StoredBatch(batchId, firstId, count, at.ToUnixTimeMilliseconds()));
    }

    public (long FirstId, int Count)? FindBatch(string batchId) => _batches.Find(batchId);

    public void SaveOutputIndex(long id, OutputIndex index) => _dirtyOutputs[id] = index;

    public JobInfo? Get(long id) =>
        _dirty.TryGetValue(id, out var staged) ? staged.Job
        : ReadInfo(id) is { } json ? JsonSerializer.Deserialize(json, GoqJson.JobInfo) : null;

    public JobSpec? GetSpec(long id)
    {
        if (_dirty.TryGetValue(id, out var staged) && staged.Spec is not null)
        {
            return staged.Spec;
        }

        return ReadSpec(id) is { } row ? Spec(row.Spec, row.Env) : null;
    }

    public OutputIndex? GetOutputIndex(long id) =>
        _dirtyOutputs.TryGetValue(id, out var staged) ? staged
        : ReadOutput(id) is { } json ? JsonSerializer.Deserialize(json, GoqJsonContext.Default.OutputIndex) : null;

    public (JobInfo Array, JobSpec Spec)? GetArray(long id)
    {
        if (!_arrayIds.Contains(id))
        {
            return null;
        }

        if (_dirtyArrays.TryGetValue(id, out var staged) && staged.Spec is not null)
        {
            return (staged.Array, staged.Spec);
        }

        if (ReadArray(id) is not { } row)
        {
            return null;
        }

        var (array, spec) = Whole(row);
        return (staged.Array ?? array, spec);
    }

    public IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId = 0, int limit = int.MaxValue,
        JobFilter? filter = null, bool toSend = false)
    {
        // A page: the rows stored past afterId, enough of them that the staged changes merged in below (which may
        // replace or remove some) still leave a full page.
        var rows = limit == int.MaxValue ? -1 : (long)limit + _dirty.Count;
        var found = ReadPage(new PageQuery(ids, states, afterId, rows, filter, toSend));

        // Staged changes are newer than what is stored.
        foreach (var (id, (job, _)) in _dirty)
        {
            found.Remove(id);
            if (id > afterId && (ids is null || ids.Contains(id)) && (states is null || states.Contains(job.State)) && (filter?.Matches(job) ?? true))
            {
                found[id] = job;
            }
        }

        return found.Values.Take(limit).ToList();
    }

    public IReadOnlyDictionary<JobState, long> CountStates(IReadOnlyCollection<JobState> states)
    {
        var counts = states.ToDictionary(s => s, _ => 0L);
        foreach (var (state, count) in CountRows())
        {
            if (counts.ContainsKey(state))
            {
                counts[state] += count;
            }
        }

        // Staged changes: each counts in its new state instead of the stored one (if any).
        if (_dirty.Count > 0)
        {
            var stored = ReadStates(_dirty.Keys);
            foreach (var (id, (job, _)) in _dirty)
            {
                if (stored.TryGetValue(id, out var was) && counts.ContainsKey(was))
                {
                    counts[was]--;
                }

                if (counts.ContainsKey(job.State))
                {
                    counts[job.State]++;
                }
            }
        }

        return counts;
    }

    public abstract IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded();

    public IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadActive() => LoadActive(int.MaxValue).Whole;

    public (IReadOnlyList<(JobInfo Job, JobSpec Spec)> Whole, IReadOnlyList<WaitingPlace> Places) LoadActive(int wholeWaiting)
    {
        Commit(); // whatever is staged is stored, so the reads see it all
        var places = new List<WaitingPlace>();
        var wholeIds = new List<long>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal); // one string per queue, however many jobs
        // A place is read from the record's bytes as stored: only the few fields it needs are looked at, nothing decoded.
        ReadWaiting((id, info) =>
        {
            if (WaitingPlace.Read(id, info, names) is { } place && wholeWaiting-- <= 0)
            {
                places.Add(place);
            }
            else
            {
                wholeIds.Add(id);
            }
        });

        var whole = ReadInStates([JobState.Running, JobState.Blocked, JobState.Held]).Select(Whole).ToList();
        whole.AddRange(ReadWhole(wholeIds).Select(Whole));
        whole.Sort((a, b) => a.Job.Id.CompareTo(b.Job.Id));
        return (whole, places);
    }

    public IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadJobs(IReadOnlyCollection<long> ids)
    {
        var found = new List<(JobInfo, JobSpec)>(ids.Count);
        var stored = new List<long>();
        foreach (var id in ids)
        {
            if (_dirty.TryGetValue(id, out var staged) && staged.Spec is { } spec)
            {
                found.Add((staged.Job.Clone(), spec)); // the caller's own record: what is staged stays as it was given
            }
            else
            {
                stored.Add(id);
            }
        }

        foreach (var (job, spec) in ReadWhole(stored).Select(Whole))
        {
            // A change staged since the last commit (no spec staged with it) is newer than the stored record.
            found.Add((_dirty.TryGetValue(job.Id, out var staged) ? staged.Job.Clone() : job, spec));
        }

        return found;
    }

    public IReadOnlyList<(JobInfo Array, JobSpec Spec, IReadOnlyList<(long Id, JobState State)> Tasks)> LoadActiveArrays()
    {
        Commit();
        var loaded = new List<(JobInfo, JobSpec, IReadOnlyList<(long, JobState)>)>();
        foreach (var (array, spec) in ReadActiveArrays().Select(Whole).ToList())
        {
            // The tasks made so far: ids right after the array's own.
            loaded.Add((array, spec, ReadTaskStates(array.Id, array.Id + (array.TaskCount ?? 0))));
        }

        return loaded;
    }

    public void RemoveArray(long id)
    {
        Commit();
        DeleteArray(id);
        _arrayIds.Remove(id);
    }

    public IReadOnlyList<long> Remove(IReadOnlyCollection<long> ids)
    {
        Commit();
        var removed = Query(ids, [.. JobStateExtensions.Terminal]).Select(j => j.Id).ToList();
        DeleteJobs(removed);
        return removed;
    }

    public bool HasChanges =>
        _dirty.Count > 0 || _dirtyOutputs.Count > 0 || _newBatches.Count > 0 || _dirtyArrays.Count > 0 || _counted || Counters.SettingsVersion != _writtenSettings;

    public void Commit()
    {
        if (!HasChanges || _abandoned)
        {
            return;
        }

        var changes = new CommitSet();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, (job, spec)) in _dirty)
        {
            changes.Jobs.Add(Row(id, job, spec, written, changes));
        }

        foreach (var (id, (array, spec)) in _dirtyArrays)
        {
            changes.Arrays.Add(Row(id, array, spec, written, changes));
        }

        foreach (var (id, index) in _dirtyOutputs)
        {
            changes.Outputs.Add((id, JsonSerializer.Serialize(index, GoqJsonContext.Default.OutputIndex)));
        }

        // Checkpoint (idempotent submit): a batch's id is stored in the very commit that holds its jobs.
        changes.Batches.AddRange(_newBatches);
        changes.Meta.AddRange(MetaValues().Where(m => _writtenMeta.GetValueOrDefault(m.Key) != m.Value));

        // Checkpoint: everything staged is stored here, or nothing is (a failed commit keeps it all staged).
        Write(changes);

        _environments.Stored(written); // forgotten only once stored: a failed commit (a full disk) writes them again

        _dirty.Clear();
        _dirtyOutputs.Clear();
        _newBatches.Clear();
        _dirtyArrays.Clear();
        _writtenSettings = Counters.SettingsVersion;
        _counted = false;
        foreach (var (key, value) in changes.Meta)
        {
            _writtenMeta[key] = value;
        }
    }

    public void Abandon() => _abandoned = true;

    /// <summary>Whether <see cref="Abandon"/> was called: nothing more is stored.</summary>
    protected bool Abandoned => _abandoned;

    public abstract IJobReader? OpenReader();

    public virtual void Dispose() => Commit();

    /// <summary>Reads what the store keeps in memory (counters, settings, batch ids, array ids, the next id): once, when it opens.</summary>
    protected void LoadMeta()
    {
        foreach (var (key, text) in ReadMeta())
        {
            if (key.StartsWith(UserKey, StringComparison.Ordinal))
            {
                Counters.Users[key[UserKey.Length..]] = text;
                continue;
            }

            _ = long.TryParse(text, out var value);
            switch (key)
            {
                case "next_job_id": _nextJobId = Math.Max(1, value); break;
                case "finished_jobs": Counters.FinishedJobs = value; break;
                case "cancelled_jobs": Counters.CancelledJobs = value; break;
                case "dead_worker_resubmits": Counters.DeadWorkerResubmits = value; break;
                case var queue when queue.StartsWith(QueueLimitKey, StringComparison.Ordinal):
                    Counters.QueueLimits[queue[QueueLimitKey.Length..]] = (int)Math.Clamp(value, 0, int.MaxValue);
                    break;
            }

            _writtenMeta[key] = text;
        }

        // Batch ids past what BatchMemory keeps are forgotten; the rest are loaded, oldest first.
        var cutoff = DateTimeOffset.UtcNow.Add(-BatchMemory.Retention).ToUnixTimeMilliseconds();
        foreach (var batch in ReadBatches(cutoff, BatchMemory.MaxRemembered))
        {
            _batches.Remember(batch.Id, batch.FirstId, batch.Count);
        }

        _arrayIds.UnionWith(ReadArrayIds());

        // Never hand out an id that is stored, whatever the meta row says (an array's tasks' ids come after its own).
        _nextJobId = Math.Max(_nextJobId, MaxStoredId() + 1);
    }

    // --- the rows: what a database gives --------------------------------------------------------------------------

    /// <summary>A job's stored record (JSON), or null.</summary>
    protected abstract string? ReadInfo(long id);

    /// <summary>A job's stored spec (JSON, without its environment) and its environment's key, or null.</summary>
    protected abstract (string Spec, string? Env)? ReadSpec(long id);

    protected abstract string? ReadOutput(long id);

    /// <summary>A stored environment (JSON) by its key, or null.</summary>
    protected abstract string? ReadEnvironment(string key);

    /// <summary>The stored rows of a page (see <see cref="Query"/>), by id.</summary>
    protected abstract SortedDictionary<long, JobInfo> ReadPage(PageQuery page);

    /// <summary>How many stored jobs are in each state.</summary>
    protected abstract IEnumerable<(JobState State, long Count)> CountRows();

    /// <summary>The stored state of each of these jobs that is stored.</summary>
    protected abstract Dictionary<long, JobState> ReadStates(IEnumerable<long> ids);

    /// <summary>Every waiting job's id and record as stored (bytes), in id order.</summary>
    protected abstract void ReadWaiting(WaitingRow each);

    /// <summary>The jobs in these states, whole.</summary>
    protected abstract IEnumerable<StoredRow> ReadInStates(IReadOnlyCollection<JobState> states);

    /// <summary>The jobs with these ids, whole, in one read whatever their number.</summary>
    protected abstract IEnumerable<StoredRow> ReadWhole(IReadOnlyList<long> ids);

    protected abstract StoredRow? ReadArray(long id);

    /// <summary>The array jobs that have not ended, whole, in id order.</summary>
    protected abstract IEnumerable<StoredRow> ReadActiveArrays();

    /// <summary>The ids and states of the jobs with ids in (<paramref name="after"/>, <paramref name="last"/>], in id order.</summary>
    protected abstract IReadOnlyList<(long Id, JobState State)> ReadTaskStates(long after, long last);

    protected abstract void DeleteArray(long id);

    protected abstract void DeleteJobs(IReadOnlyList<long> ids);

    protected abstract IEnumerable<(string Key, string Value)> ReadMeta();

    /// <summary>Forgets batch ids older than <paramref name="cutoffMs"/> or past the newest <paramref name="keep"/>, then gives the rest, oldest first.</summary>
    protected abstract IEnumerable<StoredBatch> ReadBatches(long cutoffMs, int keep);

    protected abstract IEnumerable<long> ReadArrayIds();

    /// <summary>The highest id stored: a job's, or an array's last task's.</summary>
    protected abstract long MaxStoredId();

    /// <summary>Writes every change in one transaction: all of it is stored, or (an exception) none of it.</summary>
    protected abstract void Write(CommitSet changes);

    // --------------------------------------------------------------------------------------------------------------

    private JobRow Row(long id, JobInfo job, JobSpec? spec, HashSet<string> written, CommitSet changes)
    {
        var info = JsonSerializer.Serialize(job, GoqJson.JobInfo);
        if (spec is null)
        {
            return new JobRow(id, job.State.ToString(), info, null, null);
        }

        var envKey = _environments.Key(spec.CapturedEnvironment);
        if (envKey is not null && _environments.Unstored(envKey) is { } envJson && written.Add(envKey))
        {
            changes.Environments.Add((envKey, envJson));
        }

        return new JobRow(id, job.State.ToString(), info, JsonSerializer.Serialize(spec with { CapturedEnvironment = null }, GoqJson.JobSpec), envKey);
    }

    private IEnumerable<(string Key, string Value)> MetaValues()
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        yield return ("next_job_id", _nextJobId.ToString(invariant));
        yield return ("finished_jobs", Counters.FinishedJobs.ToString(invariant));
        yield return ("cancelled_jobs", Counters.CancelledJobs.ToString(invariant));
        yield return ("dead_worker_resubmits", Counters.DeadWorkerResubmits.ToString(invariant));
        foreach (var (queue, limit) in Counters.QueueLimits)
        {
            yield return (QueueLimitKey + queue, limit.ToString(invariant));
        }

        foreach (var (name, json) in Counters.Users)
        {
            yield return (UserKey + name, json);
        }
    }

    private JobSpec Spec(string json, string? envKey)
    {
        var spec = JsonSerializer.Deserialize(json, GoqJson.JobSpec)!;
        return envKey is null ? spec : spec with { CapturedEnvironment = _environments.Get(envKey) };
    }

    // A job's record and spec as stored; the strings both hold are held once (a restart must not double a queue's memory).
    private (JobInfo Job, JobSpec Spec) Whole(StoredRow row)
    {
        var job = JsonSerializer.Deserialize(row.Info, GoqJson.JobInfo)!;
        var spec = Spec(row.Spec, row.Env);
        if (job.Command == spec.Command)
        {
            job.Command = spec.Command;
        }

        if (job.WorkingDirectory == spec.WorkingDirectory)
        {
            job.WorkingDirectory = spec.WorkingDirectory;
        }

        return (job, spec);
    }
}
