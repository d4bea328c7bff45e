namespace Goq.Worker;

/// <summary>How a job's run ended, as the worker reports it.</summary>
public sealed record JobOutcome(JobState State, int? ExitCode, string? Reason, int? Pid, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt);
