namespace Goq.Protocol;

/// <summary>
/// Server → client: the ids removed, those not removed because the job has not ended, the unknown ids, and those the
/// sender may not remove (a multi-user cluster's, with why).
/// </summary>
public sealed record RemoveJobsReply(IReadOnlyList<long> Removed, IReadOnlyList<long> StillActive, IReadOnlyList<long> Unknown,
    IReadOnlyList<AccessRefusal>? Denied = null) : GoqMessage;
