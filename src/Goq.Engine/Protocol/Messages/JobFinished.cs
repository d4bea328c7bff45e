namespace Goq.Protocol;

/// <summary>
/// Worker → server: the job ended; all its output was sent before this message. It carries the start too (pid and
/// time), since a job that ends within one output period is never reported as started on its own, and how many
/// output lines the attempt wrote: the server takes the report only once it has all of them.
/// </summary>
public sealed record JobFinished(string WorkerId, long JobId, int Attempt, JobState State, int? ExitCode, string? Reason, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt, int? Pid = null, long? TotalLines = null) : GoqMessage;
