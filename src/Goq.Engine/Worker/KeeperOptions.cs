namespace Goq.Worker;

/// <summary>
/// A worker run as a job keeper: it holds the jobs and talks to the server only through a relay, the process users
/// and supervisors see as the worker (see <see cref="Hosting.WorkerRelay"/>). It binds <see cref="BindAddress"/> (with
/// its own CURVE key pair, written with the endpoint to <see cref="InfoPath"/>) instead of connecting to the server, so
/// a relay killed and started again finds it and the jobs go on.
/// </summary>
public sealed record KeeperOptions(string InfoPath)
{
    public string BindAddress { get; init; } = "tcp://127.0.0.1";

    /// <summary>Without a relay for this long (the dead-worker time less a heartbeat) the keeper ends its jobs and exits.</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A keeper that no relay ever reaches within this exits.</summary>
    public TimeSpan FirstRelayWithin { get; init; } = TimeSpan.FromSeconds(60);
}
