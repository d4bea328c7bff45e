using Goq.Protocol;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Server.Scheduling;

// Over 400 lines: every move of a job between the parts is here, so the ways a job can go are read in one place. The
// retries and restarts (Retried, NewRun) and the endings (Retire to CountEnd) are the parts to split next if it grows.
/// <summary>
/// How a job moves between the scheduler's parts, every step a transition of the job table: admitted and placed (held,
/// blocked, delayed or queued), handed out, given back unstarted or queued again when its worker is lost, taken back by
/// a worker wrongly thought gone, retried after a failure, and ended, the one way a job leaves (<see cref="Ended"/>),
/// with what depends on it settled. The events of <see cref="WorkerEvents"/> and <see cref="UserRequests"/> call these.
/// </summary>
internal sealed class JobLifecycle(SchedulerParts parts)
{
    // How a job this scheduler does not hold ended, as the server says (from the store): for the dependencies of tasks.
    public Func<long, JobState?> EndedState { get; set; } = _ => null;

    /// <summary>Settles what depends on arrays that ended outside a job's settling (a cancel of a whole array).</summary>
    public void SettleEndedArrays(DateTimeOffset now)
    {
        if (parts.Arrays.TakeEnded(out var array))
        {
            Settle(array, now); // settles every other pending one too
        }
    }

    /// <summary>Enters a job's dependencies in the graph; the verdict says whether they are met, pending, or never to be met.</summary>
    public Verdict Depend(JobInfo job, Func<long, JobState?> endedState)
    {
        var dependencies = job.DependsOn.Select(id => (id, State(id)));
        return parts.Dependencies.Add(job.Id, job.DependencyMode, dependencies);

        // Held here: not ended. Ended: as it ended, else as the store says; a job nobody knows any more counts as failed.
        JobState? State(long id) => parts.Places.Holds(id) || parts.Arrays.ContainsKey(id) || parts.Arrays.IsUnmadeTask(id) ? null
            : parts.Leases.IsKilling(id, out _) ? JobState.Cancelled : endedState(id) ?? JobState.Failed;
    }

    /// <summary>
    /// A job has ended: the jobs blocked on it are placed again (waiting, or still blocked for fewer jobs) or ended, and
    /// so on down the graph, all in this call. (Guarantee point: no job whose dependency can no longer be met stays
    /// blocked, nor one held back.)
    /// </summary>
    public void Settle(JobInfo ended, DateTimeOffset now)
    {
        var work = new Queue<JobInfo>();
        work.Enqueue(ended);
        var placed = false;
        while (work.TryDequeue(out var job) || parts.Arrays.TakeEnded(out job))
        {
            foreach (var (id, verdict) in parts.Dependencies.Ended(job.Id, job.State))
            {
                if (!parts.Jobs.TryGetValue(id, out var dependent))
                {
                    continue;
                }

                if (verdict.Outcome == DependencyOutcome.Failed)
                {
                    Conclude(dependent, JobState.DependencyFailed, verdict.Reason!, now);
                    work.Enqueue(dependent); // iteratively, not recursively: a chain of any length is settled here
                }
                else
                {
                    Place(dependent, now);
                    placed = true;
                }
            }
        }

        if (placed)
        {
            parts.Dispatcher.Ask();
        }
    }

    public void Requeue(JobInfo job, bool dead, DateTimeOffset now)
    {
        var maxAttempts = Math.Max(1, parts.Jobs.SpecOrDefault(job.Id)?.MaxAttempts ?? JobSpec.DefaultMaxAttempts);
        if (dead)
        {
            parts.Store.Count(StoreCounter.DeadWorkerResubmits);
        }

        var thisRun = job.Attempts - job.AttemptsBeforeRun;
        if (thisRun >= maxAttempts)
        {
            parts.Jobs.Transition(job, JobState.Failed, $"its worker was lost on each of its {thisRun} attempts (MaxAttempts {maxAttempts})", now);
            job.FinishedAt = now;
            if (!Retried(job, now))
            {
                End(job, JobState.Failed, job.Reason!, now);
            }

            return;
        }

        if (job.StartedAt is not null)
        {
            // It ran: that attempt is kept, with its output, in the job's history.
            var lost = JobAttempt.Of(job);
            (lost.State, lost.Reason, lost.FinishedAt) = (JobState.Failed, "its worker was lost", now);
            job.History = [.. job.History, lost];
        }

        parts.Jobs.Transition(job, JobState.Waiting, job.Reason, now);
        job.WorkerId = null;
        job.WorkerHost = null;
        job.Pid = null;
        job.StartedAt = null;
        parts.Limits.Leave(job.Id);
        parts.Waiting.Add(job, parts.Now.Steady, front: true);
    }

    /// <summary>
    /// A running job from before a restart that no worker holds. When its worker came back (<paramref name="workerBack"/>:
    /// its hello, made after it heard from this run, does not list the job) and never confirmed the hand-off (no start
    /// was recorded), the hand-off never reached it: the job loses no attempt and counts no dead worker. Otherwise it
    /// counts as a lost run: a worker that never came back may have started the job and died with the report of its
    /// start (a host lost with the server), and giving that attempt back ran such a job twice under one attempt, past
    /// its MaxAttempts. (Guarantee point; seen in the chaos test: a tag written twice by a job of Attempts 1.)
    /// </summary>
    public void ReturnOrphan(JobInfo job, DateTimeOffset now, bool workerBack)
    {
        var (from, attempt) = (job.WorkerId, job.Attempts);
        if (workerBack && job.StartedAt is null)
        {
            ReturnUnstarted(job);
        }
        else
        {
            Requeue(job, dead: true, now);
        }

        if (from is not null)
        {
            RememberTakenFrom(job, from, attempt);
        }
    }

    /// <summary>A job queued again from a worker thought gone: that worker may still claim it (<see cref="TakeBack"/>).</summary>
    public void RememberTakenFrom(JobInfo job, string workerId, int attempt)
    {
        if (job.State == JobState.Waiting)
        {
            parts.Leases.TakenFrom(job.Id, workerId, attempt);
        }
    }

    /// <summary>
    /// A worker lists a job we queued again because we thought it gone: while nobody has taken the job since, the
    /// worker keeps it, under the attempt it holds, rather than the job running twice. (Guarantee point.) Null when the
    /// job is not such a one: handed out again, ended, or queued again for another reason (a retry of a failure the
    /// worker has not heard acknowledged yet is not its to keep).
    /// </summary>
    public JobInfo? TakeBack(WorkerEntry worker, RunningJobRef running)
    {
        if (Reinstate(worker.Id, running.JobId, running.Attempt) is not { } job)
        {
            return null;
        }

        job.WorkerHost = worker.Host;
        worker.Running.Add(job.Id, job.SlotCount);
        return job;
    }

    /// <summary>
    /// The end of a run we queued again because we thought its worker gone, reported late (by the next keeper on its
    /// host, which found the end in the dead one's ledger): while nobody has taken the job since, that run is the job's
    /// run again, and the caller records its end, rather than the job running a second time. (Guarantee point.)
    /// </summary>
    public JobInfo? TakeBackEnded(JobFinished finished)
    {
        return Reinstate(finished.WorkerId, finished.JobId, finished.Attempt);
    }

    /// <summary>
    /// Makes the run of <paramref name="attempt"/> on <paramref name="workerId"/> the job's running one again, when the
    /// job was queued again from that worker and is still waiting: its "lost" entry leaves the history. The re-queue
    /// stays counted (<see cref="DeadWorkerResubmits"/> is a counter: it never goes back).
    /// </summary>
    public JobInfo? Reinstate(string workerId, long jobId, int attempt)
    {
        if (!parts.Leases.MayTakeBack(workerId, jobId, attempt) || !parts.Jobs.TryGetValue(jobId, out var job) || job.State != JobState.Waiting
            || !parts.Waiting.Contains(job.Id))
        {
            return null;
        }

        parts.Leases.ForgetTakeBack(job.Id);
        parts.Waiting.Remove(job.Id);
        parts.Dispatcher.Forget(job.Id);

        if (job.History is [.., var last] && last.Attempt == attempt && last.WorkerId == workerId)
        {
            // Requeue kept the attempt as lost with its worker; it was not lost after all, so it is the run again.
            job.History = job.History[..^1];
            job.StartedAt = last.StartedAt;
            job.Pid = last.Pid;
            job.WorkerHost = last.WorkerHost;
        }

        job.Attempts = attempt;
        parts.Jobs.Transition(job, JobState.Running, job.Reason, parts.Now.Wall);
        job.WorkerId = workerId;
        parts.Limits.Enter(job.Id, JobClass.Of(job).Throttles);
        return job;
    }

    /// <summary>
    /// A hand-off that never reached a worker: the job goes back to its own place in the queue (by id) with the
    /// attempt given back. (Guarantee point: no attempt is spent, so MaxAttempts never fails a job that never ran.)
    /// </summary>
    public void ReturnUnstarted(JobInfo job)
    {
        parts.Jobs.Transition(job, JobState.Waiting, job.Reason, parts.Now.Wall);
        job.Attempts = Math.Max(0, job.Attempts - 1);
        job.WorkerId = null;
        job.WorkerHost = null;
        job.Pid = null;
        job.StartedAt = null;
        parts.Limits.Leave(job.Id);
        parts.Waiting.Add(job, parts.Now.Steady);
    }

    /// <summary>The job has ended: it is no longer this scheduler's to hold (its record lives on in the store).</summary>
    public void Retire(long jobId)
    {
        parts.Leases.ForgetTakeBack(jobId);
        parts.Grace.Claimed(jobId); // ended: the grace has nothing of it to queue again, even if it runs again (a restart)
        parts.Limits.Leave(jobId);
        if (parts.Jobs.Remove(jobId, out var job))
        {
            Unpark(job);
            parts.Arrays.TaskEnded(job, parts.Now.Wall);
        }
    }

    /// <summary>
    /// A job ends without a worker's report (cancelled, out of attempts, or a dependency that can no longer be met):
    /// record it, tell its waiters, and settle the jobs that depend on it.
    /// </summary>
    public void End(JobInfo job, JobState state, string reason, DateTimeOffset now)
    {
        Conclude(job, state, reason, now);
        Settle(job, now);
    }

    /// <summary>Records a job's end and tells its waiters; what depends on it is the caller's to settle.</summary>
    public void Conclude(JobInfo job, JobState state, string reason, DateTimeOffset now)
    {
        parts.Jobs.Transition(job, state, reason, now);
        job.FinishedAt = now;
        Ended(job);
    }

    /// <summary>
    /// The one way a job that has reached its end state leaves the scheduler, however it ended (a worker's report, a
    /// cancel, a lost worker, a dependency): it is retired, counted, and its waiters told. (Guarantee point.)
    /// </summary>
    public void Ended(JobInfo job)
    {
        Retire(job.Id);
        CountEnd(job);
        foreach (var (peer, rid) in parts.Watches.Take(job.Id))
        {
            parts.Port.Send(peer, rid, new JobFinishedNotice([job.Clone()]));
        }
    }

    /// <summary>Counts a job that just ended: in the store's counters, which survive restarts, and in the tally.</summary>
    public void CountEnd(JobInfo job)
    {
        if (job.State == JobState.Cancelled)
        {
            parts.Store.Count(StoreCounter.CancelledJobs);
        }
        else
        {
            parts.Store.Count(StoreCounter.FinishedJobs);
        }

        parts.Tally.JobEnded(job);
        parts.Port.JobEnded(job.Clone());
    }

    /// <summary>Hands <paramref name="job"/> to <paramref name="worker"/>: it runs under that lease from now.</summary>
    public void Hand(WorkerEntry worker, JobInfo job)
    {
        var throttles = parts.Waiting.ClassOf(job.Id)?.Throttles ?? JobClass.Of(job).Throttles;
        parts.Waiting.Remove(job.Id);
        parts.Leases.ForgetTakeBack(job.Id);
        parts.Grace.Claimed(job.Id); // handed out anew: an orphan of a restart no more (the grace must not queue this run again)
        parts.Dispatcher.Forget(job.Id);
        var spec = parts.Jobs.Spec(job.Id);
        parts.Jobs.Transition(job, JobState.Running, null, parts.Now.Wall);
        job.Attempts++;
        job.WorkerId = worker.Id;
        job.WorkerHost = worker.Host;
        parts.Limits.Enter(job.Id, throttles);
        worker.Running.Add(job.Id, job.SlotCount);
        worker.DispatchedSeq[job.Id] = ++worker.DispatchSeq;
        if (worker.OneShot)
        {
            worker.OneShotUsed = true;
        }

        parts.Port.Send(worker.Peer, 0, new DispatchJob(job.Id, job.Attempts, spec, worker.DispatchSeq, parts.Epoch));
        parts.Arrays.TaskHandedOut(job, parts.Now.Wall);
    }

    /// <summary>Puts a job that has not started where it belongs now (see <see cref="JobPlacement"/>).</summary>
    public void Place(JobInfo job, DateTimeOffset now) => parts.Placement.Place(job, new Instant(now, parts.Now.Steady));

    /// <summary>A new job (or one loaded after a restart): its holds are taken, its dependencies settled, then it is placed.</summary>
    public void Admit(JobInfo job, Func<long, JobState?> endedState, DateTimeOffset now)
    {
        if (job.Hold)
        {
            parts.Placement.Hold(job.Id);
        }

        if (job.NotBefore is { } at && at > now)
        {
            parts.Placement.NotBefore(job.Id, at);
        }

        if (job.DependsOn.Length > 0 && Depend(job, endedState) is { Outcome: DependencyOutcome.Failed } failed)
        {
            End(job, JobState.DependencyFailed, failed.Reason!, now);
            return;
        }

        Place(job, now);
    }

    /// <summary>Jobs whose -NotBefore time has come: placed again (waiting, unless held or blocked for another reason).</summary>
    public void ReleaseDue()
    {
        var released = false;
        foreach (var job in parts.Placement.TakeDue(parts.Now).ToList())
        {
            parts.Placement.Place(job, parts.Now);
            released = true;
        }

        if (released)
        {
            parts.Dispatcher.Ask();
        }
    }

    /// <summary>A job leaves the scheduler: its holds and parking go with it.</summary>
    public void Unpark(JobInfo job)
    {
        parts.Dispatcher.Forget(job.Id);

        parts.Waiting.Remove(job.Id);
        parts.Dependencies.Remove(job.Id);
        parts.Placement.Forget(job.Id);
    }

    /// <summary>
    /// A job that just failed runs again if it has retries left: its run goes into its history and it waits again
    /// (after its retry delay). Nobody waiting for it hears of the failure, and its dependents stay blocked: only its
    /// last run's outcome counts. False when it has no retries left (it ends as it is).
    /// </summary>
    public bool Retried(JobInfo job, DateTimeOffset now)
    {
        if (job.State != JobState.Failed || parts.Jobs.SpecOrDefault(job.Id) is not { } spec || job.Retries >= spec.RetryCount)
        {
            return false;
        }

        var failure = job.Reason ?? (job.ExitCode is { } code ? $"exit code {code}" : "failed");
        job.History = [.. job.History, JobAttempt.Of(job)];
        job.Retries++;
        NewRun(job, now);
        if (spec.RetryDelaySec > 0)
        {
            job.NotBefore = now.AddSeconds(spec.RetryDelaySec); // shown and stored; the delay itself runs on the steady clock
            parts.Placement.NotBeforeSteady(job.Id, parts.Now.Steady + TimeSpan.FromSeconds(spec.RetryDelaySec));
        }

        Place(job, now);
        var retry = $"retry {job.Retries} of {spec.RetryCount} after: {failure}";
        job.Reason = job.Reason is { } waitingFor ? $"{retry}; {waitingFor}" : retry;
        parts.Jobs.Changed(job);
        return true;
    }

    /// <summary>The job's record describes a run not started yet; the hand-offs so far belong to earlier runs.</summary>
    public void NewRun(JobInfo job, DateTimeOffset now)
    {
        parts.Jobs.Transition(job, JobState.Waiting, null, now);
        parts.Grace.Claimed(job.Id); // a new run: an orphan of a restart no more
        job.ExitCode = null;
        job.StartedAt = null;
        job.FinishedAt = null;
        job.WorkerId = null;
        job.WorkerHost = null;
        job.Pid = null;
        job.UserCpuTime = null;
        job.SystemCpuTime = null;
        job.MaxMemoryBytes = null;
        job.AttemptsBeforeRun = job.Attempts;
    }

    public void FreeSlot(string workerId, long jobId) => FreeWorkerSlot(workerId, jobId, jobEnded: true);

    /// <summary>The worker no longer holds the job; when one of its jobs ended, it takes jobs ahead again.</summary>
    public void FreeWorkerSlot(string workerId, long jobId, bool jobEnded)
    {
        if (parts.Workers.TryGet(workerId, out var worker))
        {
            worker.Running.Remove(jobId);
            worker.DispatchedSeq.Remove(jobId);
            if (jobEnded)
            {
                worker.PrefetchPaused = false;
            }

            parts.Workers.Refresh(worker);
        }

        parts.Dispatcher.Ask();
    }
}
