using System.Diagnostics;

namespace Goq.Timing;

/// <summary>
/// A moment, read from both clocks at once. <see cref="Wall"/> is what is shown and stored (submitted, started,
/// finished, -NotBefore). <see cref="Steady"/> is monotonic (CLOCK_MONOTONIC, through <see cref="Stopwatch"/>): every
/// duration a state machine measures (a worker's silence, the restart grace, a retry's delay, how long a wide job has
/// waited) is measured on it, so an NTP step or a VM resume that moves the wall clock declares nobody dead and runs
/// nothing twice. Steady readings mean something only within one process.
/// </summary>
public readonly record struct Instant(DateTimeOffset Wall, TimeSpan Steady)
{
    /// <summary>This process's clocks now.</summary>
    public static Instant Now => new(Diagnostics.FaultInjection.Clock.GetUtcNow(), SteadyNow); // the system's wall clock, outside tests

    /// <summary>The monotonic clock now: the time since some fixed point (the host's boot), never stepped.</summary>
    public static TimeSpan SteadyNow => Stopwatch.GetElapsedTime(0);

    /// <summary>
    /// The moment a test's (or a replay's) own clock gives: a clock that never steps, so the steady reading is the wall
    /// reading. Production code reads <see cref="Now"/>.
    /// </summary>
    public static implicit operator Instant(DateTimeOffset wall) => new(wall, TimeSpan.FromTicks(wall.UtcTicks));

    public Instant Add(TimeSpan span) => new(Wall + span, Steady + span);
}
