namespace Goq.Protocol;

/// <summary>Client → server: every queue with its counts and limit. Replied to with <see cref="QueuesReply"/>.</summary>
public sealed record GetQueues : ClientRequest;
