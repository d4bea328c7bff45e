namespace Goq.Protocol;

/// <summary>Server → worker: exit. With <paramref name="Drain"/>, finish the running jobs first.</summary>
public sealed record ShutdownWorker(bool Drain) : GoqMessage;
