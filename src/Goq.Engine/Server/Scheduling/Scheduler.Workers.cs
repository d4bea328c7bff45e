using Goq.Protocol;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>Worker lifecycle in the scheduler: liveness over time, telling workers to exit, and jobs leaving a worker.</summary>
public sealed partial class Scheduler
{
    /// <summary>
    /// Time passes: running jobs whose worker did not come back after a restart are re-queued, and workers not heard
    /// from for too long are declared dead.
    /// </summary>
    public void Tick(Instant instant)
    {
        _now = instant;
        var now = instant.Wall;
        ReleaseDue();
        if (_grace.TakeUnclaimed(instant) is { Count: > 0 } unclaimed)
        {
            foreach (var jobId in unclaimed)
            {
                if (_jobs.TryGetValue(jobId, out var job) && job.State == JobState.Running)
                {
                    ReturnOrphan(job, now);
                }
            }

            AskForScheduling();
        }

        foreach (var worker in _workers.All.Where(w => instant.Steady - w.LastSeenSteady > _options.DeadAfter).ToList())
        {
            Gone(worker.Id, dead: true);
        }

        // A wide job may have waited long enough by now to have slots kept for it.
        if (_waiting.Classes.Any(c => c.SlotCount > 1))
        {
            AskForScheduling();
        }

        EndEvent();
    }

    /// <summary>
    /// Whether a dispatch held back (a store outage) still hands its job to that connection: false once the job was
    /// taken back and went elsewhere, or ended, meanwhile.
    /// </summary>
    public bool IsDispatchCurrent(DispatchJob dispatch, PeerId to) =>
        _jobs.TryGetValue(dispatch.JobId, out var job) && job.State == JobState.Running && job.Attempts == dispatch.Attempt
        && job.WorkerId is { } id && _workers.TryGet(id, out var worker) && worker.Peer == to;

    /// <summary>Tells idle workers (and/or the named ones) to exit; they get no more jobs from now on.</summary>
    public StopWorkersReply StopWorkers(bool idle, IReadOnlyList<string>? ids, bool drain, Instant now)
    {
        _now = now;
        var chosen = new List<WorkerEntry>();
        if (idle)
        {
            chosen.AddRange(_workers.All.Where(w => w.Running.Count == 0));
        }

        var unknown = new List<string>();
        foreach (var id in ids ?? [])
        {
            if (_workers.TryGet(id, out var worker))
            {
                chosen.Add(worker);
            }
            else
            {
                unknown.Add(id);
            }
        }

        var stopped = new List<WorkerInfo>();
        foreach (var worker in chosen.Distinct())
        {
            worker.Stopping = true;
            _workers.Refresh(worker);
            _port.Send(worker.Peer, 0, new ShutdownWorker(drain));
            stopped.Add(worker.ToInfo());
            _dispatcher.Unkeep(worker);
            if (worker.Running.Count == 0)
            {
                _workers.Remove(worker.Id, out _);
                _lastWorkerLeft = (worker.Host, false, _now.Wall);
            }
        }

        EndEvent();
        return new StopWorkersReply(stopped, unknown);
    }

    /// <summary>
    /// A worker gives back a job it held ahead of a free slot, unstarted: it goes back to its place in the queue with
    /// its attempt given back, and the worker gets no more jobs ahead until one of its jobs ends. False when the report
    /// is for no lease of that worker's (stale, or the job was cancelled meanwhile: then only its place is freed).
    /// </summary>
    public bool JobReturned(JobReturned returned, Instant now)
    {
        _now = now; // the job waits again from here
        var taken = Returned(returned);
        EndEvent();
        return taken;
    }

    private bool Returned(JobReturned returned)
    {
        if (_leases.KillConfirmed(returned.WorkerId, returned.JobId, returned.Attempt) is not null)
        {
            // It never started: nothing to wait for.
            Release(returned.WorkerId, returned.JobId, jobEnded: false);
            return true;
        }

        if (!_leases.IsCurrent(returned.WorkerId, returned.JobId, returned.Attempt, out var job))
        {
            return false;
        }

        _grace.Claimed(job.Id);
        ReturnUnstarted(job);
        if (_workers.TryGet(returned.WorkerId, out var worker))
        {
            worker.PrefetchPaused = true;
        }

        Release(returned.WorkerId, returned.JobId, jobEnded: false);
        return true;
    }

    private void FreeSlot(string workerId, long jobId) => Release(workerId, jobId, jobEnded: true);

    /// <summary>The worker no longer holds the job; when one of its jobs ended, it takes jobs ahead again.</summary>
    private void Release(string workerId, long jobId, bool jobEnded)
    {
        if (_workers.TryGet(workerId, out var worker))
        {
            worker.Running.Remove(jobId);
            worker.DispatchedSeq.Remove(jobId);
            if (jobEnded)
            {
                worker.PrefetchPaused = false;
            }

            _workers.Refresh(worker);
        }

        AskForScheduling();
    }
}
