namespace Goq.Protocol;

/// <summary>Worker → server: the job ended; all its output was sent before this message.</summary>
public sealed record JobFinished(string WorkerId, long JobId, int Attempt, JobState State, int? ExitCode, string? Reason, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt) : GoqMessage;
