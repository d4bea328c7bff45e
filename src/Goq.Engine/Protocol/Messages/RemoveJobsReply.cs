namespace Goq.Protocol;

/// <summary>Server → client: the ids removed, those not removed because the job has not ended, and the unknown ids.</summary>
public sealed record RemoveJobsReply(IReadOnlyList<long> Removed, IReadOnlyList<long> StillActive, IReadOnlyList<long> Unknown) : GoqMessage;
