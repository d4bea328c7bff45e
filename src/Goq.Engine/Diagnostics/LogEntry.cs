namespace Goq.Diagnostics;

/// <summary>
/// One thing a role logs: a level, a stable event name (<c>worker.connected</c>, <c>job.stale_report</c>) for scripts
/// and log shippers to match on, a sentence for people, and the job and worker it concerns. Never a secret, a job's
/// environment or its output: only ids, names of things, counts and reasons go in.
/// </summary>
public readonly record struct LogEntry(LogLevel Level, string Event, string Message, long? JobId = null, string? WorkerId = null)
{
    /// <summary>The user a security event concerns (a multi-user cluster's), and what they asked: fields of their own in the log.</summary>
    public string? User { get; init; }

    /// <inheritdoc cref="User"/>
    public string? Action { get; init; }

    public static LogEntry Info(string @event, string message, long? job = null, string? worker = null) => new(LogLevel.Info, @event, message, job, worker);

    public static LogEntry Warning(string @event, string message, long? job = null, string? worker = null) => new(LogLevel.Warning, @event, message, job, worker);

    public static LogEntry Error(string @event, string message, long? job = null, string? worker = null) => new(LogLevel.Error, @event, message, job, worker);

    public override string ToString() =>
        $"{Level.ToString().ToLowerInvariant()} {Event}{(JobId is { } job ? $" job {job}" : "")}{(WorkerId is { } worker ? $" worker {worker}" : "")}: {Message}";
}
