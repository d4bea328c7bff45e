namespace Goq.Protocol;

/// <summary>A job a worker is running, named by id and attempt (its lease).</summary>
public sealed record RunningJobRef(long JobId, int Attempt);
