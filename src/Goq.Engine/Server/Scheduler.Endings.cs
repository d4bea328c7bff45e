using Goq.Protocol;

namespace Goq.Server;

/// <summary>The ways a job ends other than a worker's report: cancelled, removed, out of attempts.</summary>
public sealed partial class Scheduler
{
    /// <summary>Cancels jobs: a waiting one at once, a running one at once too, while its worker kills its tree.</summary>
    public CancelJobsReply Cancel(IReadOnlyList<long> ids, DateTimeOffset now)
    {
        var cancelled = new List<JobInfo>();
        var ended = new List<JobInfo>();
        var unknown = new List<long>();
        foreach (var id in ids.Distinct())
        {
            if (!_active.TryGetValue(id, out var job))
            {
                var done = _cancelling.GetValueOrDefault(id) ?? _store.Get(id);
                if (done is null)
                {
                    unknown.Add(id);
                }
                else
                {
                    ended.Add(done);
                }

                continue;
            }

            if (job.State == JobState.Waiting)
            {
                _waiting.Remove(id);
                End(job, JobState.Cancelled, "cancelled before it started", now);
            }
            else
            {
                // The slot stays taken until the worker confirms the kill; the job has ended for everyone else.
                _orphans.Remove(id);
                if (_workers.TryGet(job.WorkerId ?? "", out var worker))
                {
                    _cancelling[id] = job;
                    _effects.Add(new SchedulerEffect(worker.Peer, 0, new CancelJob(id, job.Attempts)));
                }

                End(job, JobState.Cancelled, "cancelled", now);
            }

            cancelled.Add(job);
        }

        Dispatch();
        return new CancelJobsReply(cancelled, ended, unknown);
    }

    /// <summary>Forgets ended jobs; active ones are reported, not removed.</summary>
    public RemoveJobsReply Remove(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states)
    {
        var terminal = (states ?? [JobState.Completed, JobState.Failed, JobState.Cancelled]).Where(s => s.IsTerminal()).ToList();
        var found = _store.Query(ids, null);
        // A cancelled job whose kill is still being confirmed has ended too; only its slot is still accounted for.
        var candidates = found.Where(j => j.State.IsTerminal() && terminal.Contains(j.State)).Select(j => j.Id).ToList();
        var stillActive = ids is null ? [] : found.Where(j => !j.State.IsTerminal()).Select(j => j.Id).ToList();
        var unknown = ids is null ? [] : ids.Distinct().Except(found.Select(j => j.Id)).ToList();
        var removed = candidates.Count == 0 ? [] : _store.Remove(candidates);
        return new RemoveJobsReply(removed, stillActive, unknown);
    }

    private void Requeue(JobInfo job, bool dead, DateTimeOffset now)
    {
        var maxAttempts = Math.Max(1, _store.GetSpec(job.Id)?.MaxAttempts ?? JobSpec.DefaultMaxAttempts);
        if (dead)
        {
            _store.Counters.DeadWorkerResubmits++;
        }

        if (job.Attempts >= maxAttempts)
        {
            End(job, JobState.Failed, $"its worker was lost on each of its {job.Attempts} attempts (MaxAttempts {maxAttempts})", now);
            return;
        }

        job.State = JobState.Waiting;
        job.WorkerId = null;
        job.WorkerHost = null;
        job.Pid = null;
        job.StartedAt = null;
        _store.Update(job);
        _waiting.AddFirst(job.Id);
    }

    /// <summary>
    /// A running job from before a restart that no worker holds: one whose worker never confirmed the hand-off (no
    /// start was recorded) was never run, so it loses no attempt and counts no dead worker; the others do.
    /// </summary>
    private void ReturnOrphan(JobInfo job, DateTimeOffset now)
    {
        if (job.StartedAt is null)
        {
            ReturnUnstarted(job);
        }
        else
        {
            Requeue(job, dead: true, now);
        }
    }

    /// <summary>
    /// A hand-off that never reached a worker: the job goes back to its own place in the queue (by id) with the
    /// attempt given back. (Guarantee point: no attempt is spent, so MaxAttempts never fails a job that never ran.)
    /// </summary>
    private void ReturnUnstarted(JobInfo job)
    {
        job.State = JobState.Waiting;
        job.Attempts = Math.Max(0, job.Attempts - 1);
        job.WorkerId = null;
        job.WorkerHost = null;
        job.Pid = null;
        job.StartedAt = null;
        _store.Update(job);
        var later = _waiting.First;
        while (later is not null && later.Value < job.Id)
        {
            later = later.Next;
        }

        if (later is null)
        {
            _waiting.AddLast(job.Id);
        }
        else
        {
            _waiting.AddBefore(later, job.Id);
        }
    }

    /// <summary>A job ends without a worker's report (cancelled, or out of attempts): record it and tell its waiters.</summary>
    private void End(JobInfo job, JobState state, string reason, DateTimeOffset now)
    {
        job.State = state;
        job.Reason = reason;
        job.FinishedAt = now;
        _store.Update(job);
        _active.Remove(job.Id);
        if (state == JobState.Cancelled)
        {
            _store.Counters.CancelledJobs++;
        }
        else
        {
            _store.Counters.FinishedJobs++;
        }

        foreach (var (peer, rid) in _watches.Take(job.Id))
        {
            _effects.Add(new SchedulerEffect(peer, rid, new JobFinishedNotice([job])));
        }
    }
}
