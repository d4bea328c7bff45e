using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// Where a job that has not started belongs: Held (a user's hold), Blocked (its dependencies pending), Waiting for its
/// -NotBefore time (or a retry's delay), or Waiting in the queue for a slot, in that order. Its Reason says why it does
/// not run yet. (A time is Waiting, not Held: the job starts by itself, and for PowerShell's Wait-Job that is
/// NotStarted, not Suspended.) Owns the users' holds, the release times and the jobs waiting for theirs; the states
/// change through the job table, and the queue is the waiting pool's.
/// </summary>
internal sealed class JobPlacement(JobTable jobs, WaitingPool waiting, DependencyGraph dependencies)
{
    private readonly HashSet<long> _holds = [];
    private readonly ReleaseTimers _notBefore = new();
    private readonly HashSet<long> _delayed = [];

    /// <summary>Jobs Waiting for their time (not in the queue yet).</summary>
    public IReadOnlyCollection<long> Delayed => _delayed;

    /// <summary>Puts a job that has not started where it belongs now, and says why it waits.</summary>
    public void Place(JobInfo job, Instant now)
    {
        waiting.Remove(job.Id);
        _delayed.Remove(job.Id);
        var blockedBy = dependencies.Reason(job.Id);
        var time = _notBefore.Contains(job.Id) && job.NotBefore is not null ? $"not before {job.NotBefore!.Value.ToUniversalTime():u}" : null;
        if (_holds.Contains(job.Id))
        {
            jobs.Transition(job, JobState.Held, string.Join("; then ", new[] { "held: Resume-GoqJob releases it", time, blockedBy }.OfType<string>()), now.Wall);
        }
        else if (blockedBy is not null)
        {
            jobs.Transition(job, JobState.Blocked, time is null ? blockedBy : $"{blockedBy}; then {time}", now.Wall);
        }
        else if (time is not null)
        {
            jobs.Transition(job, JobState.Waiting, time, now.Wall);
            _delayed.Add(job.Id);
        }
        else
        {
            jobs.Transition(job, JobState.Waiting, null, now.Wall);
            waiting.Add(job, now.Steady);
        }
    }

    /// <summary>A user holds the job (-Hold, Suspend-GoqJob) until released; place it again for the hold to show.</summary>
    public void Hold(long id) => _holds.Add(id);

    /// <summary>A user releases the job (Resume-GoqJob): its hold and a -NotBefore time not reached both end.</summary>
    public void Release(long id)
    {
        _holds.Remove(id);
        _notBefore.Remove(id);
    }

    /// <summary>The job does not start before <paramref name="at"/> (on the wall clock: a time a user gave).</summary>
    public void NotBefore(long id, DateTimeOffset at) => _notBefore.Set(id, at);

    /// <summary>The job does not start before <paramref name="steady"/> (a retry's delay, on the steady clock).</summary>
    public void NotBeforeSteady(long id, TimeSpan steady) => _notBefore.SetSteady(id, steady);

    /// <summary>The jobs waiting for their time whose time has come (each no longer timed): the caller places them again.</summary>
    public IEnumerable<JobInfo> TakeDue(Instant now)
    {
        foreach (var id in _notBefore.TakeDue(now))
        {
            if (_delayed.Contains(id) && jobs.TryGetValue(id, out var job))
            {
                yield return job;
            }
        }
    }

    /// <summary>The job leaves the scheduler: its hold, its time and its parking go with it.</summary>
    public void Forget(long id)
    {
        _holds.Remove(id);
        _delayed.Remove(id);
        _notBefore.Remove(id);
    }
}
