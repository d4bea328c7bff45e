namespace Goq.Server.Scheduling;

/// <summary>The scheduler's clocks: how long to wait for workers after a restart, and when a silent worker is dead.</summary>
public sealed record SchedulerOptions
{
    /// <summary>After a restart, how long running jobs wait for their worker to re-announce them before re-queueing.</summary>
    public TimeSpan RestartGrace { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A worker not heard from for this long is dead; its jobs go back to the front of the queue.</summary>
    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A worker whose slots are all busy is handed jobs ahead (up to its Prefetch) only as many as its slots get through
    /// in this time, judged by how long its recent jobs ran: many for jobs of milliseconds, none for jobs of a second.
    /// So a job held ahead waits about this long at most, and workers running long jobs never hold jobs that another
    /// worker could start sooner.
    /// </summary>
    public TimeSpan PrefetchHorizon { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Fairness for wide jobs (<c>-SlotCount</c>): while one cannot fit anywhere, narrower jobs behind it run in the free
    /// slots (backfill); once it has waited this long, one worker that could run it keeps its slots for it, taking no
    /// smaller job until enough have freed. So a big job is never starved by a stream of small ones.
    /// </summary>
    public TimeSpan KeepSlotsAfter { get; init; } = TimeSpan.FromSeconds(Configuration.GoqDefaults.KeepSlotsAfterSec);

    /// <summary>
    /// How many jobs waiting for a slot the scheduler keeps whole in memory. Past that, a waiting job is kept only as its
    /// place in the queue (id, priority, class: tens of bytes) and read back from the store, a batch at a time, when it
    /// nears the head or a user names it: a queue of a million costs a fraction of the memory, and dispatch still finds
    /// the next jobs in memory.
    /// </summary>
    public int WholeWaitingJobs { get; init; } = 20_000;

    /// <summary>Defaults derived from the heartbeat: dead after three missed heartbeats, grace of three heartbeats.</summary>
    public static SchedulerOptions FromHeartbeat(TimeSpan heartbeat) => new()
    {
        RestartGrace = heartbeat * 3,
        DeadAfter = heartbeat * 3,
    };
}
