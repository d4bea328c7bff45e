using Goq.Protocol;

namespace Goq.Worker;

/// <summary>
/// Jobs the server handed this worker ahead of a free slot, in the order they came: each starts the moment a slot
/// frees, without waiting a round trip for the server's next dispatch. One that waits longer than the hold time is
/// given back (the jobs in the slots are long, and another worker may be free sooner). Socket thread only.
/// </summary>
internal sealed class PrefetchQueue(TimeSpan hold)
{
    private readonly LinkedList<(DispatchJob Dispatch, long Since)> _jobs = new();

    public int Count => _jobs.Count;

    public IEnumerable<DispatchJob> Jobs => _jobs.Select(j => j.Dispatch);

    public bool Contains(long jobId) => _jobs.Any(j => j.Dispatch.JobId == jobId);

    public void Add(DispatchJob dispatch, long nowMs) => _jobs.AddLast((dispatch, nowMs));

    /// <summary>The job that starts next, left in place.</summary>
    public DispatchJob? Peek() => _jobs.First?.Value.Dispatch;

    public DispatchJob? Next()
    {
        if (_jobs.First is not { } first)
        {
            return null;
        }

        _jobs.RemoveFirst();
        return first.Value.Dispatch;
    }

    /// <summary>Takes the job out (it was cancelled); false when it is not here.</summary>
    public bool Remove(long jobId, int attempt)
    {
        for (var node = _jobs.First; node is not null; node = node.Next)
        {
            if (node.Value.Dispatch.JobId == jobId && node.Value.Dispatch.Attempt == attempt)
            {
                _jobs.Remove(node);
                return true;
            }
        }

        return false;
    }

    /// <summary>Takes out the jobs that have waited longer than the hold time (all of them with <paramref name="all"/>).</summary>
    public List<DispatchJob> TakeStale(long nowMs, bool all = false)
    {
        var stale = new List<DispatchJob>();
        while (_jobs.First is { } first && (all || nowMs - first.Value.Since >= hold.TotalMilliseconds))
        {
            _jobs.RemoveFirst();
            stale.Add(first.Value.Dispatch);
        }

        return stale;
    }
}
