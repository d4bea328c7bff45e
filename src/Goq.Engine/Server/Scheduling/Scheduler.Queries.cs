using Goq.Storage;
using Goq.Timing;
using Goq.Protocol;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>What clients ask of the scheduler without changing a job: lists, pages, watches.</summary>
public sealed partial class Scheduler
{
    /// <summary>Watches the jobs among <paramref name="ids"/> that are active; returns the others (ended, or unknown).</summary>
    public IReadOnlyList<long> Watch(PeerId peer, long rid, IReadOnlyList<long> ids)
    {
        var notActive = new List<long>();
        foreach (var id in ids.Distinct())
        {
            if (_places.Holds(id) || IsUnmadeTask(id))
            {
                _watches.Add(id, peer, rid); // a task not made yet is watched by its id, which it keeps
            }
            else
            {
                notActive.Add(id);
            }
        }

        return notActive;
    }

    public void Unwatch(PeerId peer, long rid) => _watches.Remove(peer, rid);

    /// <summary>The scheduler's own record of a job it holds (waiting, running, or cancelled with its kill under way), else null.</summary>
    public JobInfo? GetJob(long id) => _jobs.GetValueOrDefault(id) ?? (_leases.IsKilling(id, out var killing) ? killing : null);

    /// <summary>
    /// The read step before a request that names jobs (not an event: no state changes but jobs kept by their place
    /// being held whole from now): those of <paramref name="ids"/> kept by place are read back through
    /// <paramref name="reader"/>. The server names a few thousand at a time (see <see cref="KeptByPlace"/>).
    /// </summary>
    public void ReadBack(IWaitingJobReader reader, IEnumerable<long> ids) => _places.ReadBack(reader, ids);

    /// <summary>
    /// The read step after a turn: the heads of their class the dispatcher found kept by place are read back through
    /// <paramref name="reader"/>, and scheduling runs again (an event, at <paramref name="now"/>). False when there was
    /// nothing to read: the server repeats it until then.
    /// </summary>
    public bool ReadAhead(IWaitingJobReader reader, Instant now)
    {
        if (!_places.ReadWanted(reader))
        {
            return false;
        }

        _now = now;
        AskForScheduling();
        EndEvent();
        return true;
    }

    /// <summary>Told of a job's state change that was refused as illegal (a defect: the server logs it).</summary>
    public Action<JobTransition>? TransitionRefused
    {
        get => _jobs.Refused;
        set => _jobs.Refused = value;
    }

    /// <summary>The state changes of jobs since the last call, in order (see <see cref="JobTable.Transition"/>).</summary>
    public IReadOnlyList<JobTransition> TakeTransitions() => _jobs.TakeTransitions();

    /// <summary>Where each connected worker is reached.</summary>
    public IEnumerable<PeerId> WorkerPeers => _workers.All.Select(w => w.Peer).ToList();

    public IReadOnlyList<WorkerInfo> GetWorkers() =>
        _workers.All.OrderBy(w => w.ConnectedAt).Select(w => w.ToInfo()).ToList();
}
