namespace Goq.Protocol;

/// <summary>Server → client: the workers told to exit, and the requested ids that are not connected.</summary>
public sealed record StopWorkersReply(IReadOnlyList<WorkerInfo> Stopped, IReadOnlyList<string> Unknown) : GoqMessage;
