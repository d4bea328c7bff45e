using Goq.Protocol;
using Goq.Storage;

using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>The ways a job ends other than a worker's report: cancelled, removed, out of attempts.</summary>
public sealed partial class Scheduler
{
    /// <summary>
    /// Cancels jobs: a waiting one at once, a running one at once too, while its worker kills its tree. The reply's
    /// <see cref="CancelJobsReply.Unknown"/> holds the ids this scheduler does not hold: ended long ago, or never known
    /// (the server tells which, from the store).
    /// </summary>
    public CancelJobsReply Cancel(IReadOnlyList<long> ids, Instant instant)
    {
        _now = instant;
        var now = instant.Wall;
        var cancelled = new List<JobInfo>();
        var ended = new List<JobInfo>();
        var notHeld = new List<long>();
        // An array's id stands for its tasks; the reply names the array, not each of its tasks.
        var (expanded, arrays) = _arrays.Expand(ids, now);
        var ofArrays = arrays.Count == 0 ? null : new HashSet<long>(expanded.Where(id => _jobs.GetValueOrDefault(id)?.ArrayJobId is { } a && arrays.ContainsKey(a)));
        foreach (var id in expanded)
        {
            if (!_places.TryWhole(id, out var job))
            {
                if (_leases.IsKilling(id, out var killed))
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
                Unpark(job);
                End(job, JobState.Cancelled, "cancelled before it started", now);
            }
            else
            {
                // The slot stays taken until the worker confirms the kill; the job has ended for everyone else.
                _grace.Claimed(id);
                if (_workers.TryGet(job.WorkerId ?? "", out var worker))
                {
                    _leases.Killing(job);
                    _port.Send(worker.Peer, 0, new CancelJob(id, job.Attempts));
                }

                End(job, JobState.Cancelled, "cancelled", now);
            }

            if (ofArrays?.Contains(id) != true)
            {
                cancelled.Add(job);
            }
        }

        cancelled.AddRange(arrays.Values); // each array's own record: Cancelled once its last task ended

        SettleEndedArrays(now);
        AskForScheduling();
        EndEvent();
        return new CancelJobsReply(cancelled, ended, notHeld);
    }

    /// <summary>
    /// Jobs the store no longer holds (Remove-GoqJob). A cancelled one whose kill is still under way keeps no output
    /// and is not written back when its kill is confirmed.
    /// </summary>
    public void Removed(IEnumerable<long> ids, Instant now)
    {
        _now = now;
        _leases.Removed(ids);
    }

    private void Requeue(JobInfo job, bool dead, DateTimeOffset now)
    {
        var maxAttempts = Math.Max(1, _jobs.SpecOrDefault(job.Id)?.MaxAttempts ?? JobSpec.DefaultMaxAttempts);
        if (dead)
        {
            _store.Count(StoreCounter.DeadWorkerResubmits);
        }

        var thisRun = job.Attempts - job.AttemptsBeforeRun;
        if (thisRun >= maxAttempts)
        {
            _jobs.Transition(job, JobState.Failed, $"its worker was lost on each of its {thisRun} attempts (MaxAttempts {maxAttempts})", now);
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

        _jobs.Transition(job, JobState.Waiting, job.Reason, now);
        job.WorkerId = null;
        job.WorkerHost = null;
        job.Pid = null;
        job.StartedAt = null;
        _limits.Leave(job.Id);
        _waiting.Add(job, _now.Steady, front: true);
    }

    /// <summary>
    /// A running job from before a restart that no worker holds: one whose worker never confirmed the hand-off (no
    /// start was recorded) was never run, so it loses no attempt and counts no dead worker; the others do.
    /// </summary>
    private void ReturnOrphan(JobInfo job, DateTimeOffset now)
    {
        var (from, attempt) = (job.WorkerId, job.Attempts);
        if (job.StartedAt is null)
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
    private void RememberTakenFrom(JobInfo job, string workerId, int attempt)
    {
        if (job.State == JobState.Waiting)
        {
            _leases.TakenFrom(job.Id, workerId, attempt);
        }
    }

    /// <summary>
    /// A worker lists a job we queued again because we thought it gone: while nobody has taken the job since, the
    /// worker keeps it, under the attempt it holds, rather than the job running twice. (Guarantee point.) Null when the
    /// job is not such a one: handed out again, ended, or queued again for another reason (a retry of a failure the
    /// worker has not heard acknowledged yet is not its to keep).
    /// </summary>
    private JobInfo? TakeBack(WorkerEntry worker, RunningJobRef running)
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
    private JobInfo? TakeBackEnded(JobFinished finished)
    {
        return Reinstate(finished.WorkerId, finished.JobId, finished.Attempt);
    }

    /// <summary>
    /// Makes the run of <paramref name="attempt"/> on <paramref name="workerId"/> the job's running one again, when the
    /// job was queued again from that worker and is still waiting: its "lost" entry leaves the history. The re-queue
    /// stays counted (<see cref="DeadWorkerResubmits"/> is a counter: it never goes back).
    /// </summary>
    private JobInfo? Reinstate(string workerId, long jobId, int attempt)
    {
        if (!_leases.MayTakeBack(workerId, jobId, attempt) || !_jobs.TryGetValue(jobId, out var job) || job.State != JobState.Waiting
            || !_waiting.Contains(job.Id))
        {
            return null;
        }

        _leases.ForgetTakeBack(job.Id);
        _waiting.Remove(job.Id);
        _dispatcher.Forget(job.Id);

        if (job.History is [.., var last] && last.Attempt == attempt && last.WorkerId == workerId)
        {
            // Requeue kept the attempt as lost with its worker; it was not lost after all, so it is the run again.
            job.History = job.History[..^1];
            job.StartedAt = last.StartedAt;
            job.Pid = last.Pid;
            job.WorkerHost = last.WorkerHost;
        }

        job.Attempts = attempt;
        _jobs.Transition(job, JobState.Running, job.Reason, _now.Wall);
        job.WorkerId = workerId;
        _limits.Enter(job.Id, JobClass.Of(job).Throttles);
        return job;
    }

    /// <summary>
    /// A hand-off that never reached a worker: the job goes back to its own place in the queue (by id) with the
    /// attempt given back. (Guarantee point: no attempt is spent, so MaxAttempts never fails a job that never ran.)
    /// </summary>
    private void ReturnUnstarted(JobInfo job)
    {
        _jobs.Transition(job, JobState.Waiting, job.Reason, _now.Wall);
        job.Attempts = Math.Max(0, job.Attempts - 1);
        job.WorkerId = null;
        job.WorkerHost = null;
        job.Pid = null;
        job.StartedAt = null;
        _limits.Leave(job.Id);
        _waiting.Add(job, _now.Steady);
    }

    /// <summary>The job has ended: it is no longer this scheduler's to hold (its record lives on in the store).</summary>
    private void Retire(long jobId)
    {
        _leases.ForgetTakeBack(jobId);
        _limits.Leave(jobId);
        if (_jobs.Remove(jobId, out var job))
        {
            Unpark(job);
            _arrays.TaskEnded(job, _now.Wall);
        }
    }

    /// <summary>
    /// A job ends without a worker's report (cancelled, out of attempts, or a dependency that can no longer be met):
    /// record it, tell its waiters, and settle the jobs that depend on it.
    /// </summary>
    private void End(JobInfo job, JobState state, string reason, DateTimeOffset now)
    {
        Conclude(job, state, reason, now);
        Settle(job, now);
    }

    /// <summary>Records a job's end and tells its waiters; what depends on it is the caller's to settle.</summary>
    private void Conclude(JobInfo job, JobState state, string reason, DateTimeOffset now)
    {
        _jobs.Transition(job, state, reason, now);
        job.FinishedAt = now;
        Ended(job);
    }

    /// <summary>
    /// The one way a job that has reached its end state leaves the scheduler, however it ended (a worker's report, a
    /// cancel, a lost worker, a dependency): it is retired, counted, and its waiters told. (Guarantee point.)
    /// </summary>
    private void Ended(JobInfo job)
    {
        Retire(job.Id);
        CountEnd(job);
        foreach (var (peer, rid) in _watches.Take(job.Id))
        {
            _port.Send(peer, rid, new JobFinishedNotice([job.Clone()]));
        }
    }

    /// <summary>Counts a job that just ended: in the store's counters, which survive restarts, and in the tally.</summary>
    private void CountEnd(JobInfo job)
    {
        if (job.State == JobState.Cancelled)
        {
            _store.Count(StoreCounter.CancelledJobs);
        }
        else
        {
            _store.Count(StoreCounter.FinishedJobs);
        }

        Tally.JobEnded(job);
    }
}
