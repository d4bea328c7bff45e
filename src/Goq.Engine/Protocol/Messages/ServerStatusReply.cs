namespace Goq.Protocol;

/// <summary>Server → client: the server's status.</summary>
public sealed record ServerStatusReply(ServerStatus Status) : GoqMessage;
