namespace Goq.Worker;

/// <summary>How a job's run ended, as the worker reports it, with what its processes used where that was measured.</summary>
public sealed record JobOutcome(JobState State, int? ExitCode, string? Reason, int? Pid, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt,
    Protocol.JobUsage? Usage = null);
