using Goq.Protocol;

namespace Goq.Server;

/// <summary>What clients ask of the scheduler without changing a job: lists, pages, watches.</summary>
public sealed partial class Scheduler
{
    /// <summary>Watches the jobs among <paramref name="ids"/> that are active; returns the others (ended, or unknown).</summary>
    public IReadOnlyList<long> Watch(PeerId peer, long rid, IReadOnlyList<long> ids)
    {
        var notActive = new List<long>();
        foreach (var id in ids.Distinct())
        {
            if (_active.ContainsKey(id))
            {
                _watches.Add(id, peer, rid);
            }
            else
            {
                notActive.Add(id);
            }
        }

        return notActive;
    }

    public void Unwatch(PeerId peer, long rid) => _watches.Remove(peer, rid);

    /// <summary>
    /// Changes the priority of the jobs that have not started (waiting or blocked); the reply's Unknown holds the ids
    /// this scheduler does not hold (the server tells ended from unknown).
    /// </summary>
    public SetJobsReply SetPriority(IReadOnlyList<long> ids, int priority)
    {
        var changed = new List<JobInfo>();
        var started = new List<JobInfo>();
        var notHeld = new List<long>();
        foreach (var id in ids.Distinct())
        {
            if (_active.TryGetValue(id, out var job) && job.State is JobState.Waiting or JobState.Blocked)
            {
                job.Priority = priority;
                _waiting.Reprioritize(id, priority);
                _store.Update(job);
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

    /// <summary>The scheduler's own record of a job it holds (waiting, running, or cancelled with its kill under way), else null.</summary>
    public JobInfo? GetJob(long id) => _active.GetValueOrDefault(id) ?? _cancelling.GetValueOrDefault(id);

    public IReadOnlyList<WorkerInfo> GetWorkers() =>
        _workers.All.OrderBy(w => w.ConnectedAt).Select(w => w.ToInfo()).ToList();
}
