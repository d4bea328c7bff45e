using Goq.Protocol;

using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>Users' changes to jobs that have not started (holds, releases, priority), and admitting a job to its place.</summary>
public sealed partial class Scheduler
{
    public int HeldJobs => _jobs.Held.Count + _arrays.UnmadeIn(JobState.Held);

    /// <summary>Puts a job that has not started where it belongs now (see <see cref="JobPlacement"/>).</summary>
    private void Place(JobInfo job, DateTimeOffset now) => _placement.Place(job, new Instant(now, _now.Steady));

    /// <summary>A new job (or one loaded after a restart): its holds are taken, its dependencies settled, then it is placed.</summary>
    private void Admit(JobInfo job, Func<long, JobState?> endedState, DateTimeOffset now)
    {
        if (job.Hold)
        {
            _placement.Hold(job.Id);
        }

        if (job.NotBefore is { } at && at > now)
        {
            _placement.NotBefore(job.Id, at);
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
        _placement.Hold(job.Id);
        Place(job, now);
        _arrays.TaskHeld(job, now);
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
            _placement.Release(job.Id);
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
        var released = false;
        foreach (var job in _placement.TakeDue(_now).ToList())
        {
            _placement.Place(job, _now);
            released = true;
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
        foreach (var id in ids.Distinct())
        {
            if (_arrays.TryGetValue(id, out var array))
            {
                _arrays.Change(array, changeArray, change);
                changed.Add(array.Info);
                continue;
            }

            if (IsUnmadeTask(id))
            {
                _arrays.MakeNamed(id, _now.Wall);
            }

            if (_places.TryWhole(id, out var job) && job.State is JobState.Waiting or JobState.Blocked or JobState.Held)
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
        _dispatcher.Forget(job.Id);

        _waiting.Remove(job.Id);
        _dependencies.Remove(job.Id);
        _placement.Forget(job.Id);
    }
}
