using System.Diagnostics.CodeAnalysis;
using Goq.Storage;

namespace Goq.Server.Scheduling;

/// <summary>A job's state changed: who, from what, to what, why, when. Immutable: what the store and observers get.</summary>
public sealed record JobTransition(long JobId, JobState From, JobState To, string? Reason, DateTimeOffset At);

/// <summary>
/// The active jobs the scheduler holds whole (not ended; a waiting job kept by its place alone is not here), their
/// specs, and the jobs parked Held or Blocked. The one place a job's state changes: <see cref="Transition"/> checks the
/// change against the table of legal ones (<see cref="IsLegal"/>) and records it. Jobs changed during an event are
/// staged in the store as copies when it ends (<see cref="StageChanges"/>): the store never holds the scheduler's live
/// records. Owned by the scheduler (and so by the server's loop thread).
/// </summary>
public sealed class JobTable
{
    private readonly Dictionary<long, JobInfo> _jobs = new();
    private readonly Dictionary<long, JobSpec> _specs = new();
    private readonly HashSet<long> _held = [];
    private readonly HashSet<long> _blocked = [];
    private readonly Dictionary<long, JobInfo> _changed = new();
    private readonly Dictionary<long, JobInfo> _changedArrays = new();
    private readonly List<JobTransition> _transitions = [];

    /// <summary>
    /// Whether an illegal change throws (the tests turn it on with the <see cref="StrictSwitch"/> switch, or
    /// GOQ_STRICT_TRANSITIONS=1 for a real server) rather than being refused and reported to <see cref="Refused"/>.
    /// </summary>
    public bool Strict { get; init; } = AppContext.TryGetSwitch(StrictSwitch, out var on) ? on
        : Environment.GetEnvironmentVariable("GOQ_STRICT_TRANSITIONS") == "1";

    /// <summary>The <see cref="AppContext"/> switch that makes every job table <see cref="Strict"/>.</summary>
    public const string StrictSwitch = "Goq.Scheduler.StrictTransitions";

    /// <summary>Told of a change that is not in the table, which was refused (the job keeps its state): for the server's log.</summary>
    public Action<JobTransition>? Refused { get; set; }

    public int Count => _jobs.Count;

    public IEnumerable<JobInfo> Values => _jobs.Values;

    /// <summary>Jobs Held (a user's hold), by id.</summary>
    public IReadOnlyCollection<long> Held => _held;

    /// <summary>Jobs Blocked (their dependencies pending), by id.</summary>
    public IReadOnlyCollection<long> Blocked => _blocked;

    public JobInfo this[long id] => _jobs[id];

    public bool TryGetValue(long id, [NotNullWhen(true)] out JobInfo? job) => _jobs.TryGetValue(id, out job);

    public bool ContainsKey(long id) => _jobs.ContainsKey(id);

    public JobInfo? GetValueOrDefault(long id) => _jobs.GetValueOrDefault(id);

    public JobSpec Spec(long id) => _specs[id];

    public JobSpec? SpecOrDefault(long id) => _specs.GetValueOrDefault(id);

    /// <summary>Holds a job whole, with its spec (a new one, one loaded, or one read back from its place).</summary>
    public bool Add(JobInfo job, JobSpec spec)
    {
        if (!_jobs.TryAdd(job.Id, job))
        {
            return false;
        }

        _specs[job.Id] = spec;
        Index(job.Id, job.State);
        return true;
    }

    /// <summary>Holds a job whole again (Restart-GoqJob), replacing what was held under its id.</summary>
    public void Put(JobInfo job, JobSpec spec)
    {
        Remove(job.Id, out _);
        Add(job, spec);
    }

    /// <summary>The job is no longer held whole (it ended, or is kept by its place alone from now).</summary>
    public bool Remove(long id, [NotNullWhen(true)] out JobInfo? job)
    {
        _specs.Remove(id);
        _held.Remove(id);
        _blocked.Remove(id);
        return _jobs.Remove(id, out job);
    }

    /// <summary>
    /// Moves <paramref name="job"/> to <paramref name="to"/> with <paramref name="reason"/> (its Reason from now), if
    /// the change is a legal one, and records it. (Guarantee point: no other code assigns a job's state.)
    /// </summary>
    public bool Transition(JobInfo job, JobState to, string? reason, DateTimeOffset now)
    {
        var change = new JobTransition(job.Id, job.State, to, reason, now);
        if (!IsLegal(job.State, to))
        {
            if (Strict)
            {
                throw new InvalidOperationException($"illegal transition of job {job.Id}: {job.State} to {to}");
            }

            Refused?.Invoke(change);
            Changed(job); // what the caller changes besides goes to the store with the rest, as in memory
            return false;
        }

        if (_jobs.TryGetValue(job.Id, out var held) && ReferenceEquals(held, job))
        {
            Unindex(job.Id, job.State);
            Index(job.Id, to);
        }

        job.State = to;
        job.Reason = reason;
        _transitions.Add(change);
        Changed(job);
        return true;
    }

    /// <summary>An array job's own record changes state (its tasks' states decide it, so no table checks it; an ended array revived for a restart of its tasks leaves its end).</summary>
    public void TransitionArray(JobInfo array, JobState to, DateTimeOffset now)
    {
        if (array.State != to)
        {
            _transitions.Add(new JobTransition(array.Id, array.State, to, array.Reason, now));
        }

        array.State = to;
        ChangedArray(array);
    }

    /// <summary>Whether a job may go from <paramref name="from"/> to <paramref name="to"/> (staying where it is, with a new reason, always may).</summary>
    public static bool IsLegal(JobState from, JobState to) => from == to || from switch
    {
        // Not started: placed again (held, blocked, waiting), handed out, or ended without running.
        JobState.Waiting or JobState.Held or JobState.Blocked =>
            to is JobState.Waiting or JobState.Held or JobState.Blocked or JobState.Cancelled or JobState.DependencyFailed
            || (from == JobState.Waiting && to == JobState.Running),
        // Running: it ends, or goes back to wait (its worker lost, a hand-off never confirmed or given back, or a
        // failure it retries, which ends first).
        JobState.Running => to is JobState.Completed or JobState.Failed or JobState.Cancelled or JobState.Waiting,
        // Ended: only a new run (Restart-GoqJob, a retry) starts over, waiting.
        _ => to == JobState.Waiting,
    };

    /// <summary>The job's record changed (a field other than its state): it is staged as the event ends.</summary>
    public void Changed(JobInfo job) => _changed[job.Id] = job;

    /// <summary>An array job's own record changed.</summary>
    public void ChangedArray(JobInfo array) => _changedArrays[array.Id] = array;

    /// <summary>The transitions recorded since the last call (for tests and, later, observers).</summary>
    public IReadOnlyList<JobTransition> TakeTransitions()
    {
        var taken = _transitions.ToArray();
        _transitions.Clear();
        return taken;
    }

    /// <summary>Stages a copy of each record changed in this event: what the store holds is never a live record.</summary>
    public void StageChanges(IJobStaging store)
    {
        foreach (var job in _changed.Values)
        {
            store.Update(job.Clone());
        }

        foreach (var array in _changedArrays.Values)
        {
            store.UpdateArray(array.Clone());
        }

        _changed.Clear();
        _changedArrays.Clear();
        if (_transitions.Count > 4096)
        {
            _transitions.RemoveRange(0, _transitions.Count - 1024); // nobody took them: keep the latest
        }
    }

    private void Index(long id, JobState state)
    {
        if (state == JobState.Held)
        {
            _held.Add(id);
        }
        else if (state == JobState.Blocked)
        {
            _blocked.Add(id);
        }
    }

    private void Unindex(long id, JobState state)
    {
        if (state == JobState.Held)
        {
            _held.Remove(id);
        }
        else if (state == JobState.Blocked)
        {
            _blocked.Remove(id);
        }
    }
}
