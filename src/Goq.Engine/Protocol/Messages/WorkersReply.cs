namespace Goq.Protocol;

/// <summary>Server → client: the connected workers.</summary>
public sealed record WorkersReply(IReadOnlyList<WorkerInfo> Workers) : GoqMessage;
