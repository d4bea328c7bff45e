using Goq.Platform;

namespace Goq.Diagnostics;

/// <summary>
/// Crash points that only tests use: <c>GOQ_FAULT</c> names one (optionally with <c>:jobId</c> to pick the job it
/// waits for), and the process kills itself (SIGKILL, as kill -9 would) when it gets there, so a test can hit a crash
/// window exactly instead of hoping a timed kill lands in it. One fault is not a crash: <c>clock-ahead:seconds</c> sets
/// this process's clock (and its children's, which inherit the variable) that far ahead for every signed message it
/// stamps or checks, as on a host whose clock is off. <c>GOQ_FAULT_CLOCK_FILE</c> names a file that holds a number of
/// seconds: this process's wall clock (<see cref="Clock"/>, and <see cref="Timing.Instant.Now"/>'s wall reading) runs
/// that far ahead, read again every 100 ms, so a test can step a running server's wall clock as NTP or a VM resume
/// would. Read once at start; unset (always, outside tests) they cost one comparison.
/// </summary>
public static class FaultInjection
{
    /// <summary>The server dies after the commit that hands a job to a worker, before sending the dispatch.</summary>
    public const string ServerExitAfterDispatchCommit = "server-exit-after-dispatch-commit";

    /// <summary>The worker dies right after a job's process was started, before it does anything else.</summary>
    public const string WorkerExitAfterSpawn = "worker-exit-after-spawn";

    /// <summary>The worker dies right after it recorded a job's end in its ledger, before the server heard of it.</summary>
    public const string WorkerExitAfterEnd = "worker-exit-after-end";

    /// <summary>This process's clock runs this many seconds ahead (<c>clock-ahead:600</c>): see <see cref="Clock"/>.</summary>
    public const string ClockAhead = "clock-ahead";

    private static readonly (string? Name, long? JobId) Fault = Parse(Environment.GetEnvironmentVariable("GOQ_FAULT"));

    /// <summary>The clock that signed messages are stamped and checked by: the system's, unless a test set it ahead.</summary>
    public static TimeProvider Clock { get; } =
        Fault is { Name: ClockAhead, JobId: { } seconds } ? new SkewedClock(TimeSpan.FromSeconds(seconds))
        : Environment.GetEnvironmentVariable("GOQ_FAULT_CLOCK_FILE") is { Length: > 0 } file ? new SteppedClock(file)
        : TimeProvider.System;

    public static bool Enabled => Fault.Name is not null;

    /// <summary>Dies here, at once, when <paramref name="fault"/> is the one asked for (and for the job asked for, if any).</summary>
    public static void At(string fault, long jobId)
    {
        if (Fault.Name == fault && (Fault.JobId is null || Fault.JobId == jobId))
        {
            _ = LibC.kill(Environment.ProcessId, LibC.SigKill);
            Thread.Sleep(Timeout.Infinite);
        }
    }

    private static (string?, long?) Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return (null, null);
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (value, null) : (value[..colon], long.TryParse(value[(colon + 1)..], out var id) ? id : null);
    }

    private sealed class SkewedClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }

    private sealed class SteppedClock(string file) : TimeProvider
    {
        private long _readAt = Environment.TickCount64 - 1000;
        private long _offsetTicks;

        public override DateTimeOffset GetUtcNow()
        {
            var now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _readAt) >= 100)
            {
                Interlocked.Exchange(ref _readAt, now);
                try
                {
                    if (double.TryParse(File.ReadAllText(file).Trim(), global::System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                    {
                        Interlocked.Exchange(ref _offsetTicks, TimeSpan.FromSeconds(seconds).Ticks);
                    }
                }
                catch (IOException)
                {
                    // being rewritten: the last offset holds
                }
            }

            return base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
        }
    }
}
