using Goq.Protocol;

namespace Goq.Server;

/// <summary>Worker lifecycle in the scheduler: liveness over time and telling workers to exit.</summary>
public sealed partial class Scheduler
{
    /// <summary>
    /// Time passes: running jobs whose worker did not come back after a restart are re-queued, and workers not heard
    /// from for too long are declared dead.
    /// </summary>
    public void Tick(DateTimeOffset now)
    {
        if (_orphans.Count > 0 && now >= _graceUntil)
        {
            foreach (var jobId in _orphans.OrderDescending().ToList())
            {
                _orphans.Remove(jobId);
                if (_active.TryGetValue(jobId, out var job) && job.State == JobState.Running)
                {
                    ReturnOrphan(job, now);
                }
            }

            Dispatch();
        }

        foreach (var worker in _workers.All.Where(w => now - w.LastSeen > _options.DeadAfter).ToList())
        {
            WorkerGone(worker.Id, dead: true, now);
        }
    }

    /// <summary>Tells idle workers (and/or the named ones) to exit; they get no more jobs from now on.</summary>
    public StopWorkersReply StopWorkers(bool idle, IReadOnlyList<string>? ids, bool drain)
    {
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
            _effects.Add(new SchedulerEffect(worker.Peer, 0, new ShutdownWorker(drain)));
            stopped.Add(worker.ToInfo());
            if (worker.Running.Count == 0)
            {
                _workers.Remove(worker.Id, out _);
            }
        }

        return new StopWorkersReply(stopped, unknown);
    }
}
