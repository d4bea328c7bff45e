namespace Goq.Protocol;

/// <summary>
/// Worker → server, on connect and then as the heartbeat: who I am, how many slots I have and which jobs I am
/// still running (so the server never hands me more jobs than I have free slots, also after it restarted).
/// </summary>
public sealed record WorkerHello(string WorkerId, string Host, int Pid, int Slots, IReadOnlyList<RunningJobRef> Running, string Version, bool OneShot, string? Epoch = null, long LastDispatch = 0) : GoqMessage;
