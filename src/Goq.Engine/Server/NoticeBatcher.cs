using Goq.Protocol;
using Goq.Transport;

namespace Goq.Server;

/// <summary>
/// Coalesces the job-end notices for each watch: the first end after a quiet spell goes out at once (a single job's
/// waiter is told without delay), later ones are held until <c>interval</c> has passed since the last notice, then go
/// together. A client waiting on thousands of jobs gets at most one notice per interval instead of one per job; every
/// notice still leaves after the commit that recorded its jobs' ends, since it is only ever sent later.
/// Owned by the server's loop thread.
/// </summary>
internal sealed class NoticeBatcher(TimeSpan interval)
{
    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private readonly Dictionary<(PeerId Peer, long Rid), Batch> _batches = [];

    /// <summary>True while anything is held or was sent within the interval (then <see cref="TakeDue"/> must be called).</summary>
    public bool Active => _batches.Count > 0;

    /// <summary>Queues the ends of one notice; returns a notice to send now, or null when it was held.</summary>
    public JobFinishedNotice? Add(PeerId peer, long rid, IReadOnlyList<JobInfo> jobs, long nowMs)
    {
        if (!_batches.TryGetValue((peer, rid), out var batch))
        {
            _batches[(peer, rid)] = new Batch { LastSentMs = nowMs };
            return new JobFinishedNotice(jobs);
        }

        batch.Held.AddRange(jobs);
        return null;
    }

    /// <summary>The held notices whose interval has passed; forgets watches that have been quiet for an interval.</summary>
    public List<(PeerId Peer, long Rid, JobFinishedNotice Notice)> TakeDue(long nowMs)
    {
        var due = new List<(PeerId, long, JobFinishedNotice)>();
        foreach (var (key, batch) in _batches.ToList())
        {
            if (nowMs - batch.LastSentMs < _intervalMs)
            {
                continue;
            }

            if (batch.Held.Count == 0)
            {
                _batches.Remove(key);
                continue;
            }

            due.Add((key.Peer, key.Rid, new JobFinishedNotice(batch.Held.ToList())));
            batch.Held.Clear();
            batch.LastSentMs = nowMs;
        }

        return due;
    }

    private sealed class Batch
    {
        public List<JobInfo> Held { get; } = [];

        public long LastSentMs { get; set; }
    }
}
