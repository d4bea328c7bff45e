using Goq.Storage;
using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// The scheduler's parts, wired once by <see cref="Scheduler"/>: each part owns its own state, and the handler types
/// (<see cref="JobLifecycle"/>, <see cref="WorkerEvents"/>, <see cref="UserRequests"/>, <see cref="SchedulerQueries"/>)
/// reach the parts through here. <see cref="Now"/> is the time of the event being handled, set as each event starts: the
/// scheduler has no clock of its own.
/// </summary>
internal sealed class SchedulerParts
{
    public required IJobStaging Store { get; init; }

    public required ISchedulerPort Port { get; init; }

    public required SchedulerOptions Options { get; init; }

    public required JobTable Jobs { get; init; }

    public required WaitingPool Waiting { get; init; }

    public required WorkerPool Workers { get; init; }

    public required WatchRegistry Watches { get; init; }

    public required DependencyGraph Dependencies { get; init; }

    public required RunLimits Limits { get; init; }

    public required RestartGrace Grace { get; init; }

    public required Leases Leases { get; init; }

    public required JobPlacement Placement { get; init; }

    public required KeptByPlace Places { get; init; }

    public required Dispatcher Dispatcher { get; init; }

    public required ArrayJobs Arrays { get; init; }

    public required JobTally Tally { get; init; }

    /// <summary>Names this server run, so dispatch numbers from a run before a restart are never mistaken for ours.</summary>
    public required string Epoch { get; init; }

    /// <summary>
    /// The time the event being handled brought: stamps take its wall reading, every duration (a worker's silence, the
    /// grace, how long a wide job has waited, a retry's delay) its steady one.
    /// </summary>
    public Instant Now { get; set; }
}
