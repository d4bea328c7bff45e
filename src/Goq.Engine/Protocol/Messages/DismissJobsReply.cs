namespace Goq.Protocol;

/// <summary>Server → client: the ids dismissed (or dismissed already), those that have not ended (left as they are) and the unknown ids.</summary>
public sealed record DismissJobsReply(IReadOnlyList<long> Dismissed, IReadOnlyList<long> StillActive, IReadOnlyList<long> Unknown,
    IReadOnlyList<AccessRefusal>? Denied = null) : GoqMessage;
