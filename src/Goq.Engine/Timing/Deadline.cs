using System.Diagnostics;

namespace Goq.Timing;

/// <summary>
/// A point on the monotonic clock by which something must have happened: a step of the wall clock (NTP, a VM resume)
/// neither ends a wait early nor makes it last forever. <see cref="Never"/> is a deadline that never passes.
/// </summary>
public readonly struct Deadline
{
    private readonly long _at; // a Stopwatch timestamp; long.MaxValue for never

    private Deadline(long at) => _at = at;

    public static Deadline Never => new(long.MaxValue);

    /// <summary>The deadline <paramref name="span"/> from now; a negative or infinite span never passes.</summary>
    public static Deadline In(TimeSpan span) =>
        span < TimeSpan.Zero || span == Timeout.InfiniteTimeSpan || span >= TimeSpan.FromDays(10_000)
            ? Never
            : new(Stopwatch.GetTimestamp() + (long)(span.TotalSeconds * Stopwatch.Frequency));

    /// <summary>The deadline <paramref name="span"/> from now, or never for null.</summary>
    public static Deadline In(TimeSpan? span) => span is { } s ? In(s) : Never;

    public bool IsNever => _at == long.MaxValue;

    public bool Passed => !IsNever && Stopwatch.GetTimestamp() >= _at;

    /// <summary>The time left (zero once passed); <see cref="Timeout.InfiniteTimeSpan"/> for never.</summary>
    public TimeSpan Remaining => IsNever
        ? Timeout.InfiniteTimeSpan
        : Stopwatch.GetTimestamp() is var now && now < _at ? TimeSpan.FromSeconds((_at - now) / (double)Stopwatch.Frequency) : TimeSpan.Zero;
}
