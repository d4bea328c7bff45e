namespace Goq.Protocol;

/// <summary>Client → server: counters and queue lengths. Replied to with <see cref="ServerStatusReply"/>.</summary>
public sealed record GetServerStatus : GoqMessage;
