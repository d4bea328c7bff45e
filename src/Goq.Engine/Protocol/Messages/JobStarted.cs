namespace Goq.Protocol;

/// <summary>Worker → server: the job's process started.</summary>
public sealed record JobStarted(string WorkerId, long JobId, int Attempt, int Pid, DateTimeOffset StartedAt) : WorkerReport;
