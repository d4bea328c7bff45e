using Goq.Protocol;

using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// Where a job that has not started belongs: Held (a user's hold), Blocked (its dependencies pending), Waiting for its
/// -NotBefore time, or Waiting in the queue for a slot, in that order. Its Reason says why it does not run yet. (A time
/// is Waiting, not Held: the job starts by itself, and for PowerShell's Wait-Job that is NotStarted, not Suspended.)
/// </summary>
public sealed partial class Scheduler
{
    // Jobs a user holds (-Hold, Suspend-GoqJob) and jobs not to start before a time; and, mirroring their states, the
    // jobs parked Held, Blocked or waiting for their time (so the counts cost nothing).
    private readonly HashSet<long> _userHolds = [];
    private readonly ReleaseTimers _notBefore = new();
    private readonly HashSet<long> _delayedJobs = [];

    public int HeldJobs => _jobs.Held.Count + UnmadeIn(JobState.Held);

    /// <summary>Puts a job that has not started where it belongs now, and says why it waits.</summary>
    private void Place(JobInfo job, DateTimeOffset now)
    {
        _waiting.Remove(job.Id);
        _delayedJobs.Remove(job.Id);
        var dependencies = _dependencies.Reason(job.Id);
        var time = _notBefore.Contains(job.Id) && job.NotBefore is not null ? $"not before {job.NotBefore!.Value.ToUniversalTime():u}" : null;
        if (_userHolds.Contains(job.Id))
        {
            _jobs.Transition(job, JobState.Held, string.Join("; then ", new[] { "held: Resume-GoqJob releases it", time, dependencies }.OfType<string>()), now);
        }
        else if (dependencies is not null)
        {
            _jobs.Transition(job, JobState.Blocked, time is null ? dependencies : $"{dependencies}; then {time}", now);
        }
        else if (time is not null)
        {
            _jobs.Transition(job, JobState.Waiting, time, now);
            _delayedJobs.Add(job.Id);
        }
        else
        {
            _jobs.Transition(job, JobState.Waiting, null, now);
            _waiting.Add(job, _now.Steady);
        }
    }

    /// <summary>A new job (or one loaded after a restart): its holds are taken, its dependencies settled, then it is placed.</summary>
    private void Admit(JobInfo job, Func<long, JobState?> endedState, DateTimeOffset now)
    {
        if (job.Hold)
        {
            _userHolds.Add(job.Id);
        }

        if (job.NotBefore is { } at && at > now)
        {
            _notBefore.Set(job.Id, at);
        }

        if (job.DependsOn.Length > 0 && Depend(job, endedState) is { Outcome: DependencyOutcome.Failed } failed)
        {
            End(job, JobState.DependencyFailed, failed.Reason!, now);
            return;
        }

        Place(job, now);
    }

    /// <summary>Holds jobs that have not started (Suspend-GoqJob); the reply's Unknown holds the ids this scheduler does not hold.</summary>
    public SetJobsReply Hold(IReadOnlyList<long> ids, Instant instant)
    {
        _now = instant;
        var reply = HoldAt(ids, instant.Wall);
        EndEvent();
        return reply;
    }

    private SetJobsReply HoldAt(IReadOnlyList<long> ids, DateTimeOffset now) => Change(ids, job =>
    {
        job.Hold = true;
        _userHolds.Add(job.Id);
        Place(job, now);
        TaskHeld(job, now);
    }, array =>
    {
        array.Info.Hold = true;
        _jobs.TransitionArray(array.Info, array.Info.State == JobState.Running ? JobState.Running : JobState.Held, _now.Wall);
    });

    /// <summary>Releases held jobs (Resume-GoqJob): a user's hold, and a -NotBefore time not reached, both end now.</summary>
    public SetJobsReply Release(IReadOnlyList<long> ids, Instant instant)
    {
        _now = instant;
        var now = instant.Wall;
        var reply = Change(ids, job =>
        {
            job.Hold = false;
            _userHolds.Remove(job.Id);
            _notBefore.Remove(job.Id);
            job.NotBefore = null;

            Place(job, now);
        }, array =>
        {
            array.Info.Hold = false;
            array.Info.NotBefore = null;
            _jobs.TransitionArray(array.Info, array.Info.State == JobState.Held ? JobState.Waiting : array.Info.State, now);
        });
        AskForScheduling();
        EndEvent();
        return reply;
    }

    /// <summary>Changes the priority of jobs that have not started (they move in the queue).</summary>
    public SetJobsReply SetPriority(IReadOnlyList<long> ids, int priority, Instant now)
    {
        _now = now;
        var reply = Change(ids, job =>
        {
            job.Priority = priority;
            _waiting.Reprioritize(job.Id, priority);
            _jobs.Changed(job);
        }, array => array.Info.Priority = priority);
        EndEvent();
        return reply;
    }

    /// <summary>Jobs whose -NotBefore time has come: placed again (waiting, unless held or blocked for another reason).</summary>
    private void ReleaseDue()
    {
        var now = _now.Wall;
        var released = false;
        foreach (var id in _notBefore.TakeDue(_now))
        {
            if (_jobs.TryGetValue(id, out var job) && _delayedJobs.Contains(id))
            {
                Place(job, now);
                released = true;
            }
        }

        if (released)
        {
            AskForScheduling();
        }
    }

    /// <summary>Applies a change to the jobs that have not started; reports the others (started or ended) and the ids not held here.</summary>
    private SetJobsReply Change(IReadOnlyList<long> ids, Action<JobInfo> change, Action<ArrayJob> changeArray)
    {
        var changed = new List<JobInfo>();
        var started = new List<JobInfo>();
        var notHeld = new List<long>();
        foreach (var id in WarmedAhead(ids.Distinct().ToList()))
        {
            if (_arrays.TryGetValue(id, out var array))
            {
                ChangeArray(array, changeArray, change);
                changed.Add(array.Info);
                continue;
            }

            if (IsUnmadeTask(id))
            {
                MakeNamed(id, _now.Wall);
            }

            if (TryActive(id, out var job) && job.State is JobState.Waiting or JobState.Blocked or JobState.Held)
            {
                change(job);
                changed.Add(job);
            }
            else if (GetJob(id) is { } other)
            {
                started.Add(other);
            }
            else
            {
                notHeld.Add(id);
            }
        }

        return new SetJobsReply(changed, started, notHeld);
    }

    /// <summary>A job leaves the scheduler: its holds and parking go with it.</summary>
    private void Unpark(JobInfo job)
    {
        if (_keptBy.Remove(job.Id, out var keeper))
        {
            keeper.KeptFor = null;
        }

        _waiting.Remove(job.Id);
        _dependencies.Remove(job.Id);
        _userHolds.Remove(job.Id);
        _delayedJobs.Remove(job.Id);
        _notBefore.Remove(job.Id);
    }
}
