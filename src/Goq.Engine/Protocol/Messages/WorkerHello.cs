namespace Goq.Protocol;

/// <summary>
/// Worker → server, on connect and then as the heartbeat: who I am, how many slots I have and which jobs I hold
/// (running, or handed to me ahead and waiting for a slot), so the server never hands me more jobs than I can take,
/// also after it restarted. <paramref name="Prefetch"/> is how many jobs beyond my slots I take ahead: a job handed
/// over while every slot is busy starts the moment one frees, without a round trip to the server.
/// <paramref name="Queues"/> are the queues it serves (null: the default queue) and <paramref name="Labels"/> what it
/// offers (e.g. gpu): a job runs only on a worker serving its queue with every label it requires. <paramref name="HostKey"/>
/// names its machine, boot and mount namespace (<see cref="Platform.HostKey"/>): equal to the server's, it sees the same files.
/// </summary>
public sealed record WorkerHello(string WorkerId, string Host, int Pid, int Slots, IReadOnlyList<RunningJobRef> Running, string Version, bool OneShot,
    string? Epoch = null, long LastDispatch = 0, int Prefetch = 0, IReadOnlyList<string>? Queues = null, IReadOnlyList<string>? Labels = null,
    string? HostKey = null) : WorkerReport
{
    /// <summary>The most slots a worker may announce (and a job may ask for), and the most jobs it may take ahead.</summary>
    public const int MaxSlots = 4096;
}
