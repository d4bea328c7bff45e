using Goq.Protocol;

namespace Goq.Server;

/// <summary>What clients ask of the scheduler without changing a job: lists, pages, watches.</summary>
public sealed partial class Scheduler
{
    /// <summary>Registers a watch; returns the watched jobs that already ended and the unknown ids.</summary>
    public WatchReply Watch(PeerId peer, long rid, IReadOnlyList<long> ids)
    {
        var finished = new List<JobInfo>();
        var unknown = new List<long>();
        foreach (var id in ids.Distinct())
        {
            if (_active.ContainsKey(id))
            {
                _watches.Add(id, peer, rid);
            }
            else if (_store.Get(id) is { } done)
            {
                finished.Add(done);
            }
            else
            {
                unknown.Add(id);
            }
        }

        return new WatchReply(finished, unknown);
    }

    public void Unwatch(PeerId peer, long rid) => _watches.Remove(peer, rid);

    /// <summary>One page of jobs past <paramref name="afterId"/>; unknown ids are reported with the first page.</summary>
    public JobsReply GetJobs(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states, long afterId = 0, int limit = DefaultPageSize)
    {
        limit = Math.Clamp(limit <= 0 ? DefaultPageSize : limit, 1, MaxPageSize);
        var jobs = _store.Query(ids, states, afterId, limit + 1);
        var unknown = ids is null || afterId > 0 ? [] : ids.Distinct().Where(id => _store.Get(id) is null).ToList();
        return jobs.Count > limit
            ? new JobsReply(jobs.Take(limit).ToList(), unknown, jobs[limit - 1].Id)
            : new JobsReply(jobs, unknown);
    }

    public const int DefaultPageSize = 1000;

    public const int MaxPageSize = 10_000;

    /// <summary>The scheduler's own record of an active job (the one it mutates), else the stored one.</summary>
    public JobInfo? GetJob(long id) => _active.GetValueOrDefault(id) ?? _cancelling.GetValueOrDefault(id) ?? _store.Get(id);

    public IReadOnlyList<WorkerInfo> GetWorkers() =>
        _workers.All.OrderBy(w => w.ConnectedAt).Select(w => w.ToInfo()).ToList();
}
