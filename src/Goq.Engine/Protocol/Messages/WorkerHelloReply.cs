namespace Goq.Protocol;

/// <summary>Server → worker: registered; send heartbeats every <paramref name="HeartbeatMs"/>.</summary>
public sealed record WorkerHelloReply(int HeartbeatMs) : GoqMessage;
