using System.Diagnostics.CodeAnalysis;

namespace Goq.Server.Scheduling;

/// <summary>
/// Who may change a running job (fencing). A job runs under a lease, its attempt on one worker: only that worker's
/// reports for that attempt count. A job cancelled while it runs has ended for everyone, but its worker's kill is under
/// way until it confirms it: that worker may still write the job's output and must free its slot. And a run queued
/// again from a worker thought gone (dead, or silent through the restart grace) may still be claimed by that worker
/// while nobody took the job since (a take-back), rather than the job running twice. Owns the kills under way and the
/// take-backs; the running jobs are the job table's.
/// </summary>
internal sealed class Leases(JobTable jobs)
{
    private readonly Dictionary<long, JobInfo> _killing = new();

    // Cancelled jobs whose kill is still under way that Remove-GoqJob -Force took out of the store: they keep no output.
    private readonly HashSet<long> _removedWhileKilling = [];

    // Runs queued again because their worker was thought gone, by the worker and attempt they came from.
    private readonly Dictionary<long, (string WorkerId, int Attempt)> _takenFrom = new();

    /// <summary>Whether <paramref name="workerId"/> holds the current lease (attempt) of the running job.</summary>
    public bool IsCurrent(string workerId, long jobId, int attempt, [NotNullWhen(true)] out JobInfo? job) =>
        jobs.TryGetValue(jobId, out job) && job.State == JobState.Running && job.WorkerId == workerId && job.Attempts == attempt;

    /// <summary>The current lease, or that of a job cancelled while its kill is under way.</summary>
    public bool IsCurrentOrKilling(string workerId, long jobId, int attempt, [NotNullWhen(true)] out JobInfo? job) =>
        IsCurrent(workerId, jobId, attempt, out job) || TryKilling(workerId, jobId, attempt, out job);

    /// <summary>
    /// The job whose output this worker and lease may write, or null. A job cancelled while its kill is under way may
    /// write until the kill is confirmed, unless it was removed meanwhile (Remove-GoqJob -Force): that one keeps no output.
    /// A run queued again from a worker thought gone may write while it may still be taken back (its end, reported late,
    /// comes with the last of its lines).
    /// </summary>
    public JobInfo? OutputWriter(string workerId, long jobId, int attempt) =>
        (IsCurrentOrKilling(workerId, jobId, attempt, out var job) && !_removedWhileKilling.Contains(jobId))
        || (MayTakeBack(workerId, jobId, attempt) && jobs.TryGetValue(jobId, out job) && job.State == JobState.Waiting) ? job : null;

    /// <summary>The job was cancelled while it ran on a worker, which is told to kill it: it waits for the confirmation.</summary>
    public void Killing(JobInfo job) => _killing[job.Id] = job;

    /// <summary>Whether the job was cancelled and its kill is not confirmed yet; with its record.</summary>
    public bool IsKilling(long jobId, [NotNullWhen(true)] out JobInfo? job) => _killing.TryGetValue(jobId, out job);

    /// <summary>The kill of the job under that lease is confirmed (its end, or its return unstarted): the record, or null.</summary>
    public JobInfo? KillConfirmed(string workerId, long jobId, int attempt)
    {
        if (!TryKilling(workerId, jobId, attempt, out var job))
        {
            return null;
        }

        _killing.Remove(jobId);
        return job;
    }

    /// <summary>The worker is gone, or never had the job: no kill to wait for. False when none was under way.</summary>
    public bool ForgetKill(long jobId) => _killing.Remove(jobId);

    /// <summary>Jobs the store no longer holds (Remove-GoqJob): one whose kill is under way keeps no output, and is not written back.</summary>
    public void Removed(IEnumerable<long> ids)
    {
        foreach (var id in ids.Where(_killing.ContainsKey))
        {
            _removedWhileKilling.Add(id);
        }
    }

    /// <summary>Whether the job, whose kill was just confirmed, was removed meanwhile (and forgets that it was).</summary>
    public bool WasRemoved(long jobId) => _removedWhileKilling.Remove(jobId);

    /// <summary>The job was queued again from <paramref name="workerId"/>, thought gone: that worker may still claim that attempt.</summary>
    public void TakenFrom(long jobId, string workerId, int attempt) => _takenFrom[jobId] = (workerId, attempt);

    /// <summary>Whether the job was queued again from that worker's run of that attempt (and not handed out since).</summary>
    public bool MayTakeBack(string workerId, long jobId, int attempt) => _takenFrom.TryGetValue(jobId, out var from) && from == (workerId, attempt);

    /// <summary>The job was handed out, taken back, or ended: no earlier run may claim it any more.</summary>
    public void ForgetTakeBack(long jobId) => _takenFrom.Remove(jobId);

    private bool TryKilling(string workerId, long jobId, int attempt, [NotNullWhen(true)] out JobInfo? job) =>
        _killing.TryGetValue(jobId, out job) && job.WorkerId == workerId && job.Attempts == attempt;
}
