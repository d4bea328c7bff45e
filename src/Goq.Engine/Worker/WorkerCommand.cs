using Goq.Protocol;

namespace Goq.Worker;

/// <summary>
/// What another thread (a job's reader or runner, a file sync, a caller of Exit) asks of the worker's socket thread,
/// through its inbox: one record per kind, so what crosses threads can be named in a log line and asserted in a test,
/// which a closure could not.
/// </summary>
internal abstract record WorkerCommand
{
    /// <summary>A job's reader has a message's worth of lines pending, or its budget is full: send them now.</summary>
    public sealed record FlushJob(RunningJob Job) : WorkerCommand;

    /// <summary>A job's run ended with <paramref name="Outcome"/>.</summary>
    public sealed record JobEnded(RunningJob Job, JobOutcome Outcome) : WorkerCommand;

    /// <summary>The job's output file was synced while it ran: count the new lines to the server.</summary>
    public sealed record OutputSynced(RunningJob Job) : WorkerCommand;

    /// <summary>The ended job's output file was synced (its last line counted): report its lines, then its <paramref name="End"/> (null: not reported).</summary>
    public sealed record LastOutputSynced(RunningJob Job, JobOutputFile File, JobFinished? End) : WorkerCommand;

    /// <summary>Leave the server, after the running jobs end (<paramref name="Drain"/>) or at once.</summary>
    public sealed record Exit(bool Drain) : WorkerCommand;
}
