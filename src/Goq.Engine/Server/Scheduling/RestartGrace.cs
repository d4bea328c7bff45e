using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// After a restart, the jobs the store says were running belong to their workers for a grace period: a worker that
/// comes back and lists one keeps it. Those not claimed when the grace is over are the scheduler's to queue again. Owns
/// the unclaimed jobs (orphans) and when the server started listening, from which the grace counts (on the steady clock).
/// </summary>
internal sealed class RestartGrace(TimeSpan grace, Instant servingSince)
{
    private readonly HashSet<long> _orphans = [];

    /// <summary>When the server started listening (its workers' time to come back counts from here).</summary>
    public Instant ServingSince { get; private set; } = servingSince;

    /// <summary>Jobs found running at start-up that no worker has claimed yet.</summary>
    public IReadOnlyCollection<long> Orphans => _orphans;

    public TimeSpan Grace => grace;

    /// <summary>The server listens from <paramref name="now"/>: the grace counts from here, not from reading the store.</summary>
    public void Serving(Instant now) => ServingSince = now;

    /// <summary>Whether workers still have time to come back with their jobs.</summary>
    public bool InGrace(Instant now) => now.Steady - ServingSince.Steady < grace;

    /// <summary>A job found running at start-up: its worker has the grace to claim it.</summary>
    public void Orphaned(long jobId) => _orphans.Add(jobId);

    /// <summary>The job is claimed, cancelled or queued again: no longer waiting for its worker. False if it was not an orphan.</summary>
    public bool Claimed(long jobId) => _orphans.Remove(jobId);

    /// <summary>Once the grace is over: the orphans no worker claimed, newest first, each no longer an orphan.</summary>
    public IReadOnlyList<long> TakeUnclaimed(Instant now)
    {
        if (_orphans.Count == 0 || InGrace(now))
        {
            return [];
        }

        var unclaimed = _orphans.OrderDescending().ToList();
        _orphans.Clear();
        return unclaimed;
    }
}
