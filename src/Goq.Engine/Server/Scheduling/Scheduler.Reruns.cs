using Goq.Protocol;

using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// Running a job again under its own id: a failed job with retries left (<c>-RetryCount</c>, after
/// <c>-RetryDelaySec</c>), and ended jobs a user restarts (<c>Restart-GoqJob</c>). Each earlier run is kept in the job's
/// <see cref="JobInfo.History"/>; the lease number counts on, so a report from an earlier run is always told apart.
/// </summary>
public sealed partial class Scheduler
{
    /// <summary>
    /// A job that just failed runs again if it has retries left: its run goes into its history and it waits again
    /// (after its retry delay). Nobody waiting for it hears of the failure, and its dependents stay blocked: only its
    /// last run's outcome counts. False when it has no retries left (it ends as it is).
    /// </summary>
    private bool Retried(JobInfo job, DateTimeOffset now)
    {
        if (job.State != JobState.Failed || _jobs.SpecOrDefault(job.Id) is not { } spec || job.Retries >= spec.RetryCount)
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
            _placement.NotBeforeSteady(job.Id, _now.Steady + TimeSpan.FromSeconds(spec.RetryDelaySec));
        }

        Place(job, now);
        var retry = $"retry {job.Retries} of {spec.RetryCount} after: {failure}";
        job.Reason = job.Reason is { } waitingFor ? $"{retry}; {waitingFor}" : retry;
        _jobs.Changed(job);
        return true;
    }

    /// <summary>
    /// Puts ended jobs back in the queue under their own ids, each as a new run (Restart-GoqJob): its last run goes into
    /// its history, its retries start again, and it is placed as a new job is (its dependencies counted as they ended;
    /// give dependencies before their dependents, as ids order them). The caller gives only jobs this scheduler does not hold.
    /// </summary>
    public IReadOnlyList<JobInfo> Restart(IReadOnlyList<(JobInfo Job, JobSpec Spec)> ended, Instant instant, Func<long, JobState?>? endedState = null)
    {
        _now = instant;
        var now = instant.Wall;
        var restarted = new List<JobInfo>();
        foreach (var (job, spec) in ended.OrderBy(e => e.Job.Id))
        {
            if (_places.Holds(job.Id) || _leases.IsKilling(job.Id, out _))
            {
                continue;
            }

            if (job.Attempts > job.AttemptsBeforeRun || job.State != JobState.DependencyFailed)
            {
                job.History = [.. job.History, JobAttempt.Of(job)];
            }

            if (job.ArrayJobId is { } arrayId && _arrays.TryGetValue(arrayId, out var array))
            {
                array.Restarted(job.State); // its array runs: the task counts as live again
            }

            Tally.JobReopened(job.Queue, job.State);
            job.Retries = 0;
            job.Hold = false;
            job.NotBefore = null;
            job.Dismissed = false; // a new run is back in Get-Job
            NewRun(job, now);
            _jobs.Put(job, spec);
            _jobs.Changed(job);
            Admit(job, endedState ?? (_ => null), now);
            restarted.Add(job);
        }

        // An array held again for tasks that were not restarted after all ends again at once.
        foreach (var array in _arrays.Values.Where(a => a.Ended).ToList())
        {
            _arrays.End(array, now);
        }

        SettleEndedArrays(now);
        AskForScheduling();
        EndEvent();
        return restarted;
    }

    /// <summary>The job's record describes a run not started yet; the hand-offs so far belong to earlier runs.</summary>
    private void NewRun(JobInfo job, DateTimeOffset now)
    {
        _jobs.Transition(job, JobState.Waiting, null, now);
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
}
