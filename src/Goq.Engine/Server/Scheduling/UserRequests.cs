using Goq.Protocol;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>
/// What users ask of the scheduler: submit (jobs and arrays), cancel, hold, release, re-prioritize, restart, forget
/// (removed jobs), cap a queue, and watch jobs for their end. Each is an event of <see cref="Scheduler"/>, which ends it.
/// </summary>
internal sealed class UserRequests(SchedulerParts parts, JobLifecycle life)
{
    /// <summary>An array that ended is held again, with the tasks it had, because some of them are about to be restarted.</summary>
    public void Revive(JobInfo info, JobSpec spec, IReadOnlyList<(long Id, JobState State)> tasks, Instant instant)
    {
        var now = instant.Wall;
        if (parts.Arrays.ContainsKey(info.Id))
        {
            return;
        }

        info.FinishedAt = null;
        info.Reason = null;
        parts.Jobs.TransitionArray(info, JobState.Waiting, now);
        parts.Arrays.Load(info, spec, tasks);
    }

    /// <summary>
    /// Cancels jobs: a waiting one at once, a running one at once too, while its worker kills its tree. The reply's
    /// <see cref="CancelJobsReply.Unknown"/> holds the ids this scheduler does not hold: ended long ago, or never known
    /// (the server tells which, from the store).
    /// </summary>
    public CancelJobsReply Cancel(IReadOnlyList<long> ids, Instant instant)
    {
        var now = instant.Wall;
        var cancelled = new List<JobInfo>();
        var ended = new List<JobInfo>();
        var notHeld = new List<long>();
        // An array's id stands for its tasks; the reply names the array, not each of its tasks.
        var (expanded, arrays) = parts.Arrays.Expand(ids, now);
        var ofArrays = arrays.Count == 0 ? null : new HashSet<long>(expanded.Where(id => parts.Jobs.GetValueOrDefault(id)?.ArrayJobId is { } a && arrays.ContainsKey(a)));
        foreach (var id in expanded)
        {
            if (!parts.Places.TryWhole(id, out var job))
            {
                if (parts.Leases.IsKilling(id, out var killed))
                {
                    ended.Add(killed);
                }
                else
                {
                    notHeld.Add(id);
                }

                continue;
            }

            if (job.State is JobState.Waiting or JobState.Blocked or JobState.Held)
            {
                life.Unpark(job);
                life.End(job, JobState.Cancelled, "cancelled before it started", now);
            }
            else
            {
                // The slot stays taken until the worker confirms the kill; the job has ended for everyone else.
                parts.Grace.Claimed(id);
                if (parts.Workers.TryGet(job.WorkerId ?? "", out var worker))
                {
                    parts.Leases.Killing(job);
                    parts.Port.Send(worker.Peer, 0, new CancelJob(id, job.Attempts));
                }

                life.End(job, JobState.Cancelled, "cancelled", now);
            }

            if (ofArrays?.Contains(id) != true)
            {
                cancelled.Add(job);
            }
        }

        cancelled.AddRange(arrays.Values); // each array's own record: Cancelled once its last task ended

        life.SettleEndedArrays(now);
        parts.Dispatcher.Ask();
        return new CancelJobsReply(cancelled, ended, notHeld);
    }

    /// <summary>
    /// Jobs the store no longer holds (Remove-GoqJob). A cancelled one whose kill is still under way keeps no output
    /// and is not written back when its kill is confirmed.
    /// </summary>
    public void Removed(IEnumerable<long> ids, Instant now)
    {
        parts.Leases.Removed(ids);
    }

    /// <summary>Caps how many jobs of a queue run at once (0: no cap); kept in the store. Jobs start at once if the cap rose.</summary>
    public void SetQueueLimit(string queue, int limit)
    {
        parts.Limits.SetLimit(RunLimits.QueueKey(queue), limit);
        parts.Store.SetQueueLimit(queue, limit); // a 0 is kept too, so the store forgets the old cap
        parts.Dispatcher.Ask();
    }

    /// <summary>Holds jobs that have not started (Suspend-GoqJob); the reply's Unknown holds the ids this scheduler does not hold.</summary>
    public SetJobsReply HoldAt(IReadOnlyList<long> ids, DateTimeOffset now) => Change(ids, job =>
    {
        job.Hold = true;
        parts.Placement.Hold(job.Id);
        life.Place(job, now);
        parts.Arrays.TaskHeld(job, now);
    }, array =>
    {
        array.Info.Hold = true;
        parts.Jobs.TransitionArray(array.Info, array.Info.State == JobState.Running ? JobState.Running : JobState.Held, parts.Now.Wall);
    });

    /// <summary>Releases held jobs (Resume-GoqJob): a user's hold, and a -NotBefore time not reached, both end now.</summary>
    public SetJobsReply Release(IReadOnlyList<long> ids, Instant instant)
    {
        var now = instant.Wall;
        var reply = Change(ids, job =>
        {
            job.Hold = false;
            parts.Placement.Release(job.Id);
            job.NotBefore = null;

            life.Place(job, now);
        }, array =>
        {
            array.Info.Hold = false;
            array.Info.NotBefore = null;
            parts.Jobs.TransitionArray(array.Info, array.Info.State == JobState.Held ? JobState.Waiting : array.Info.State, now);
        });
        parts.Dispatcher.Ask();
        return reply;
    }

    /// <summary>Changes the priority of jobs that have not started (they move in the queue).</summary>
    public SetJobsReply SetPriority(IReadOnlyList<long> ids, int priority, Instant now)
    {
        var reply = Change(ids, job =>
        {
            job.Priority = priority;
            parts.Waiting.Reprioritize(job.Id, priority);
            parts.Jobs.Changed(job);
        }, array => array.Info.Priority = priority);
        return reply;
    }

    /// <summary>Applies a change to the jobs that have not started; reports the others (started or ended) and the ids not held here.</summary>
    public SetJobsReply Change(IReadOnlyList<long> ids, Action<JobInfo> change, Action<ArrayJob> changeArray)
    {
        var changed = new List<JobInfo>();
        var started = new List<JobInfo>();
        var notHeld = new List<long>();
        foreach (var id in ids.Distinct())
        {
            if (parts.Arrays.TryGetValue(id, out var array))
            {
                parts.Arrays.Change(array, changeArray, change);
                changed.Add(array.Info);
                continue;
            }

            if (parts.Arrays.IsUnmadeTask(id))
            {
                parts.Arrays.MakeNamed(id, parts.Now.Wall);
            }

            if (parts.Places.TryWhole(id, out var job) && job.State is JobState.Waiting or JobState.Blocked or JobState.Held)
            {
                change(job);
                changed.Add(job);
            }
            else if ((parts.Jobs.GetValueOrDefault(id) ?? (parts.Leases.IsKilling(id, out var killing) ? killing : null)) is { } other)
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

    /// <summary>Watches the jobs among <paramref name="ids"/> that are active; returns the others (ended, or unknown).</summary>
    public IReadOnlyList<long> Watch(PeerId peer, long rid, IReadOnlyList<long> ids)
    {
        var notActive = new List<long>();
        foreach (var id in ids.Distinct())
        {
            if (parts.Places.Holds(id) || parts.Arrays.IsUnmadeTask(id))
            {
                parts.Watches.Add(id, peer, rid); // a task not made yet is watched by its id, which it keeps
            }
            else
            {
                notActive.Add(id);
            }
        }

        return notActive;
    }

    /// <summary>
    /// Puts ended jobs back in the queue under their own ids, each as a new run (Restart-GoqJob): its last run goes into
    /// its history, its retries start again, and it is placed as a new job is (its dependencies counted as they ended;
    /// give dependencies before their dependents, as ids order them). The caller gives only jobs this scheduler does not hold.
    /// </summary>
    public IReadOnlyList<JobInfo> Restart(IReadOnlyList<(JobInfo Job, JobSpec Spec)> ended, Instant instant, Func<long, JobState?>? endedState = null)
    {
        var now = instant.Wall;
        var restarted = new List<JobInfo>();
        foreach (var (job, spec) in ended.OrderBy(e => e.Job.Id))
        {
            if (parts.Places.Holds(job.Id) || parts.Leases.IsKilling(job.Id, out _))
            {
                continue;
            }

            if (job.Attempts > job.AttemptsBeforeRun || job.State != JobState.DependencyFailed)
            {
                job.History = [.. job.History, JobAttempt.Of(job)];
            }

            if (job.ArrayJobId is { } arrayId && parts.Arrays.TryGetValue(arrayId, out var array))
            {
                array.Restarted(job.State); // its array runs: the task counts as live again
            }

            parts.Tally.JobReopened(job.Queue, job.State);
            job.Retries = 0;
            job.Hold = false;
            job.NotBefore = null;
            job.Dismissed = false; // a new run is back in Get-Job
            life.NewRun(job, now);
            parts.Jobs.Put(job, spec);
            parts.Jobs.Changed(job);
            life.Admit(job, endedState ?? (_ => null), now);
            restarted.Add(job);
        }

        // An array held again for tasks that were not restarted after all ends again at once.
        foreach (var array in parts.Arrays.Values.Where(a => a.Ended).ToList())
        {
            parts.Arrays.End(array, now);
        }

        life.SettleEndedArrays(now);
        parts.Dispatcher.Ask();
        return restarted;
    }

    /// <summary>
    /// Queues a batch, in order, recording its <paramref name="batchId"/> with it. (A batch id seen before is the
    /// server's to answer, from the store: see <see cref="JobQueries.SeenBatch"/>; idempotent submit.)
    /// </summary>
    /// <param name="endedState">How a job this scheduler does not hold ended (null: unknown): the server's answer, from
    /// the store, for the jobs the batch depends on.</param>
    public IReadOnlyList<JobInfo> Submit(IReadOnlyList<JobSpec> specs, Instant instant, string? batchId = null, Func<long, JobState?>? endedState = null)
    {
        var now = instant.Wall;
        life.EndedState = endedState ?? life.EndedState;

        // An array takes an id for itself and one for each of its tasks, right after it.
        var count = specs.Sum(s => 1L + (s.ArrayIndex?.Count ?? 0));
        var first = parts.Store.AllocateIds(checked((int)count));
        if (batchId is not null)
        {
            parts.Store.RecordBatch(batchId, first, (int)count, now); // every id it took: the server answers a resend from them
        }

        var jobs = new List<JobInfo>(specs.Count);
        var id = first;
        parts.Tally.Submitted += specs.Sum(s => s.ArrayIndex?.Count ?? 1); // an array's tasks are the jobs it submits
        foreach (var spec in specs)
        {
            if (spec.ArrayIndex is { } indices)
            {
                jobs.Add(parts.Arrays.Submit(id, spec, now));
                id += 1 + indices.Count;
                continue;
            }

            var job = NewJob(id++, spec, now);
            parts.Store.Insert(job.Clone(), spec);
            parts.Jobs.Add(job, spec);
            jobs.Add(job);
            life.Admit(job, endedState ?? (_ => null), now);
            parts.Places.Keep(job);
        }

        parts.Dispatcher.Ask();
        return jobs;
    }

    internal static JobInfo NewJob(long id, JobSpec spec, DateTimeOffset now) => new()
    {
        Id = id,
        Name = spec.Name,
        State = JobState.Waiting,
        Kind = spec.Kind,
        Command = spec.Command,
        ArgumentList = [.. spec.ArgumentList],
        WorkingDirectory = spec.WorkingDirectory,
        SubmittedAt = now,
        SubmittedBy = spec.SubmittedBy,
        Owner = spec.Owner,
        Priority = spec.Priority,
        Queue = spec.Queue,
        SlotCount = spec.SlotCount,
        Require = [.. spec.Require],
        DependsOn = [.. spec.DependsOn.Distinct()],
        DependencyMode = spec.DependencyMode,
        Hold = spec.Hold,
        NotBefore = spec.NotBefore,
    };
}
