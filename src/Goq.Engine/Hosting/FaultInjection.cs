namespace Goq.Hosting;

/// <summary>
/// Crash points that only tests use: <c>GOQ_FAULT</c> names one (optionally with <c>:jobId</c> to pick the job it
/// waits for), and the process kills itself (SIGKILL, as kill -9 would) when it gets there, so a test can hit a crash
/// window exactly instead of hoping a timed kill lands in it. One fault is not a crash: <c>clock-ahead:seconds</c> sets
/// this process's clock (and its children's, which inherit the variable) that far ahead for every signed message it
/// stamps or checks, as on a host whose clock is off. Read once at start; unset (always, outside tests) it costs one
/// comparison.
/// </summary>
public static class FaultInjection
{
    /// <summary>The server dies after the commit that hands a job to a worker, before sending the dispatch.</summary>
    public const string ServerExitAfterDispatchCommit = "server-exit-after-dispatch-commit";

    /// <summary>The worker dies right after a job's process was started, before it does anything else.</summary>
    public const string WorkerExitAfterSpawn = "worker-exit-after-spawn";

    /// <summary>This process's clock runs this many seconds ahead (<c>clock-ahead:600</c>): see <see cref="Clock"/>.</summary>
    public const string ClockAhead = "clock-ahead";

    private static readonly (string? Name, long? JobId) Fault = Parse(Environment.GetEnvironmentVariable("GOQ_FAULT"));

    /// <summary>The clock that signed messages are stamped and checked by: the system's, unless a test set it ahead.</summary>
    public static TimeProvider Clock { get; } =
        Fault is { Name: ClockAhead, JobId: { } seconds } ? new SkewedClock(TimeSpan.FromSeconds(seconds)) : TimeProvider.System;

    public static bool Enabled => Fault.Name is not null;

    /// <summary>Dies here, at once, when <paramref name="fault"/> is the one asked for (and for the job asked for, if any).</summary>
    public static void At(string fault, long jobId)
    {
        if (Fault.Name == fault && (Fault.JobId is null || Fault.JobId == jobId))
        {
            _ = Worker.LibC.kill(Environment.ProcessId, Worker.LibC.SigKill);
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
}
