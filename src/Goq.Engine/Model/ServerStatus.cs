namespace Goq;

/// <summary>The server's counters and queue lengths (goq's stat): what <c>Get-GoqServer</c> returns.</summary>
public sealed class ServerStatus
{
    public string Endpoint { get; set; } = "";

    public int ServerPid { get; set; }

    public string ServerHost { get; set; } = "";

    public int RunningJobs { get; set; }

    public int WaitingJobs { get; set; }

    /// <summary>Jobs waiting for the jobs they depend on.</summary>
    public int BlockedJobs { get; set; }

    /// <summary>Jobs a user holds back (-Hold, Suspend-GoqJob).</summary>
    public int HeldJobs { get; set; }

    /// <summary>Idle worker slots: each free slot counts as one waiting worker.</summary>
    public int WaitingWorkers { get; set; }

    public int Workers { get; set; }

    /// <summary>Jobs somebody is waiting for (Wait-GoqJob).</summary>
    public int WatchedJobs { get; set; }

    public long FinishedJobs { get; set; }

    public long CancelledJobs { get; set; }

    public long NextJobId { get; set; }

    public long DeadWorkerResubmits { get; set; }

    /// <summary>Reports from a worker that no longer held the job's lease (a presumed-dead worker), ignored.</summary>
    public long StaleReports { get; set; }

    /// <summary>
    /// Why the server cannot store changes now (disk full, read-only, an I/O error): it refuses them with
    /// GoqStoreUnavailable until it can again. Null while it can.
    /// </summary>
    public string? StoreUnavailable { get; set; }

    public long DroppedBadSignatures { get; set; }

    /// <summary>
    /// A multi-user cluster's requests refused for lack of rights (GoqAccessDenied), messages signed with a revoked key,
    /// and worker messages signed by a user for a worker that is not theirs, since the server started.
    /// </summary>
    public long DeniedRequests { get; set; }

    /// <summary>True for a multi-user cluster (Initialize-GoqHome -MultiUser): users have keys and roles, and own their jobs.</summary>
    public bool MultiUser { get; set; }

    /// <summary>How many users a multi-user cluster has (revoked ones too).</summary>
    public int Users { get; set; }

    public long DroppedReplays { get; set; }

    public long DroppedMalformed { get; set; }

    /// <summary>How many jobs are in each state (Get-GoqServer asks for them; null when not asked).</summary>
    public JobStateCounts? Jobs { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public string Version { get; set; } = "";

    public string Home { get; set; } = "";

    /// <summary>How long the server has run (Get-GoqServer -Detailed; null otherwise).</summary>
    public TimeSpan? Uptime { get; set; }

    /// <summary>The job database's size on disk in bytes, its write-ahead log included (-Detailed).</summary>
    public long? StoreBytes { get; set; }

    /// <summary>The job database's path on the server's host (-Detailed).</summary>
    public string? StorePath { get; set; }

    /// <summary>The server's log file on its host (-Detailed).</summary>
    public string? LogPath { get; set; }

    /// <summary>Where the server serves its Prometheus metrics (-Detailed; null when it serves none).</summary>
    public string? MetricsUrl { get; set; }

    /// <summary>
    /// The web dashboard with its token in the query string (-Detailed; null when not served). Made by the client from
    /// its own copy of the cluster secret: the token never travels, and never reaches a log.
    /// </summary>
    public string? DashboardUrl { get; set; }

    /// <summary>Active: this server serves. Standby: it waits to take over (one of several servers); Down: not heard from.</summary>
    public string Role { get; set; } = "Active";

    /// <summary>The lease's epoch this server serves under (one more at every take-over); null with a SQLite store (one server).</summary>
    public long? Epoch { get; set; }

    /// <summary>When this server took the lease and began to serve (null with a SQLite store: see <see cref="StartedAt"/>).</summary>
    public DateTimeOffset? ActiveSince { get; set; }

    /// <summary>Where the jobs are kept: SQLite (a file on the server's host) or PostgreSQL.</summary>
    public string Store { get; set; } = "SQLite";

    /// <summary>For a standby, where the active server is (its endpoint); null for the active server itself.</summary>
    public string? ActiveServer { get; set; }

    /// <summary>Every configured server with its role (Get-GoqServer -All); null when not asked.</summary>
    public List<ClusterServer>? Servers { get; set; }
}

/// <summary>A server of the cluster as the active one knows it (<c>Get-GoqServer -All</c>).</summary>
public sealed class ClusterServer
{
    public string Endpoint { get; set; } = "";

    /// <summary>Active, Standby, or Down (configured, not heard from within a lease).</summary>
    public string Role { get; set; } = "";

    /// <summary>Seconds since it last said it was there (null: never, or the active server itself).</summary>
    public double? SeenSecondsAgo { get; set; }
}
