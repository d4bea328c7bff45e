using Goq.Protocol;
using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>What workers report about the jobs they hold: a start, output they may write (fencing), an end.</summary>
public sealed partial class Scheduler
{
    /// <summary>Records that a job's process started; a report for another lease is ignored.</summary>
    public bool JobStarted(JobStarted started, Instant now)
    {
        _now = now;
        if (!_leases.IsCurrent(started.WorkerId, started.JobId, started.Attempt, out var job))
        {
            return false;
        }

        var first = job.StartedAt is null;
        job.Pid = started.Pid;
        job.StartedAt = started.StartedAt;
        _jobs.Changed(job);
        if (first)
        {
            Tally.JobStarted(job);
        }

        EndEvent();
        return true;
    }

    /// <summary>
    /// The job whose output this worker and lease may write (fencing), or null. A job cancelled while its kill is under
    /// way may write until the kill is confirmed, unless it was removed meanwhile (Remove-GoqJob -Force): that one keeps
    /// no output. Only that case costs a look in the store; a running job cannot be removed.
    /// </summary>
    public JobInfo? OutputWriter(string workerId, long jobId, int attempt) =>
        _leases.OutputWriter(workerId, jobId, attempt);

    /// <summary>Records a job's end, once; returns the job, or null when the report is stale or unknown.</summary>
    public JobInfo? JobFinished(JobFinished finished, Instant now)
    {
        _now = now; // a retry's delay counts from here
        var job = Finished(finished);
        EndEvent();
        return job;
    }

    private JobInfo? Finished(JobFinished finished)
    {
        if (_leases.KillConfirmed(finished.WorkerId, finished.JobId, finished.Attempt) is { } killed)
        {
            // The kill was confirmed: the job already ended as Cancelled; only the slot comes back.
            killed.ExitCode = finished.ExitCode;
            killed.StartedAt = finished.StartedAt ?? killed.StartedAt;
            if (!_leases.WasRemoved(killed.Id))
            {
                _jobs.Changed(killed); // not when it was removed meanwhile (Remove-GoqJob -Force): it stays gone
            }

            FreeSlot(finished.WorkerId, killed.Id);
            return killed;
        }

        if (!_leases.IsCurrent(finished.WorkerId, finished.JobId, finished.Attempt, out var job))
        {
            if (TakeBackEnded(finished) is not { } late)
            {
                // A job we did not know it ran has ended: its slot is free again.
                if (_workers.TryGet(finished.WorkerId, out var reporter) && reporter.ForeignRunning > 0)
                {
                    reporter.ForeignRunning--;
                    reporter.PrefetchPaused = false;
                    _workers.Refresh(reporter);
                    AskForScheduling();
                }

                return null;
            }

            job = late;
        }

        _jobs.Transition(job, finished.State is JobState.Completed or JobState.Failed or JobState.Cancelled ? finished.State : JobState.Failed,
            finished.Reason, _now.Wall);
        job.ExitCode = finished.ExitCode;
        if (job.StartedAt is null && finished.StartedAt is not null)
        {
            job.StartedAt = finished.StartedAt;
            Tally.JobStarted(job); // a short job's end can come before (or instead of) its start report
        }

        job.StartedAt = finished.StartedAt ?? job.StartedAt;
        job.Pid = finished.Pid ?? job.Pid;
        job.FinishedAt = finished.FinishedAt;
        job.UserCpuTime = finished.Usage is { } usage ? TimeSpan.FromMicroseconds(usage.UserCpuMicros) : null;
        job.SystemCpuTime = finished.Usage is { } used ? TimeSpan.FromMicroseconds(used.SystemCpuMicros) : null;
        job.MaxMemoryBytes = finished.Usage?.MaxRssBytes;
        if (finished.StartedAt is { } ran && _workers.TryGet(finished.WorkerId, out var runner))
        {
            runner.NoteRun(finished.FinishedAt - ran);
        }

        if (Retried(job, _now.Wall > finished.FinishedAt ? _now.Wall : finished.FinishedAt))
        {
            FreeSlot(finished.WorkerId, job.Id);
            return job;
        }

        Ended(job);
        Settle(job, finished.FinishedAt);
        FreeSlot(finished.WorkerId, job.Id);
        return job;
    }
}
