using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>Who waits for which job (goq's Finishaddr, but per request). Owned by the scheduler thread.</summary>
internal sealed class WatchRegistry
{
    private readonly Dictionary<long, HashSet<(PeerId Peer, long Rid)>> _byJob = new();

    public int Count => _byJob.Count;

    public void Add(long jobId, PeerId peer, long rid)
    {
        if (!_byJob.TryGetValue(jobId, out var set))
        {
            _byJob[jobId] = set = [];
        }

        set.Add((peer, rid)); // a waiter registering again (it does, to survive restarts) is still one waiter
    }

    /// <summary>Removes and returns the watchers of a job that has ended.</summary>
    public IReadOnlyCollection<(PeerId Peer, long Rid)> Take(long jobId) =>
        _byJob.Remove(jobId, out var set) ? set : [];

    public void Remove(PeerId peer, long rid)
    {
        foreach (var (jobId, list) in _byJob.ToList())
        {
            list.Remove((peer, rid));
            if (list.Count == 0)
            {
                _byJob.Remove(jobId);
            }
        }
    }

    /// <summary>Forgets a connection that can no longer be reached.</summary>
    public void RemovePeer(PeerId peer)
    {
        foreach (var (jobId, list) in _byJob.ToList())
        {
            list.RemoveWhere(w => w.Peer == peer);
            if (list.Count == 0)
            {
                _byJob.Remove(jobId);
            }
        }
    }
}
