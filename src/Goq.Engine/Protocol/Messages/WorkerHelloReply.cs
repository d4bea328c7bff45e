namespace Goq.Protocol;

/// <summary>
/// Server → worker: registered; send heartbeats every <paramref name="HeartbeatMs"/>. <paramref name="Epoch"/> names
/// this server run: the worker carries it in its hellos from now on, and sends one at once, so the server knows the
/// worker's list of jobs is complete (it was made after everything an earlier run sent had arrived).
/// </summary>
public sealed record WorkerHelloReply(int HeartbeatMs, string? Epoch = null) : GoqMessage;
