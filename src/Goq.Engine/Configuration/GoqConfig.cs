namespace Goq.Configuration;

/// <summary>The config file <c>.goq/config.json</c>, as <c>Initialize-GoqHome</c> writes it.</summary>
public sealed class GoqConfig
{
    /// <summary>Where workers and clients reach the server (host name or address).</summary>
    public string ServerHost { get; set; } = GoqDefaults.ServerHost;

    public int Port { get; set; } = GoqDefaults.Port;

    /// <summary>Address the server binds; by default ServerHost when it is an address, else every interface.</summary>
    public string? BindAddress { get; set; }

    public int HeartbeatSec { get; set; } = GoqDefaults.HeartbeatSec;

    /// <summary>Seconds of silence after which a worker is dead; unset means three heartbeats.</summary>
    public int? DeadWorkerSec { get; set; }

    /// <summary>Name of the output folder under a job's working directory (goq's GOQ_ODIR).</summary>
    public string OutputDir { get; set; } = GoqDefaults.OutputDir;

    /// <summary>Replay window in seconds (see <see cref="GoqDefaults.ReplayWindowSec"/>); null for the default.</summary>
    public int? ReplayWindowSec { get; set; }

    /// <summary>How long a submit is retried across a server restart (see <see cref="GoqDefaults.SubmitRetrySec"/>); null for the default.</summary>
    public int? SubmitRetrySec { get; set; }

    /// <summary>MiB of serialized objects a script-block job may output (see <see cref="GoqDefaults.MaxJobRecordMiB"/>); null for the default.</summary>
    public int? MaxJobRecordMiB { get; set; }

    /// <summary>Seconds a request waits for the server before it fails (GOQ_CONNECT_TIMEOUT_SEC); null for the default 5.</summary>
    public int? ConnectTimeoutSec { get; set; }

    /// <summary>Ended jobs Get-Job lists (the most recent); null for the default 100.</summary>
    public int? RecentJobs { get; set; }

    /// <summary>How far ahead busy workers are handed jobs, in milliseconds of their jobs' run time; null for the default 100.</summary>
    public int? PrefetchHorizonMs { get; set; }

    public int? KeepSlotsAfterSec { get; set; }

    /// <summary>Script-block jobs a runner runs before it is replaced; null for the default 10,000.</summary>
    public int? RunnerMaxJobs { get; set; }

    /// <summary>Resident MiB past which a runner is replaced after its job; null for the default 1,024.</summary>
    public int? RunnerMaxMemoryMiB { get; set; }

    /// <summary>The port the server serves Prometheus metrics and its dashboard on (GOQ_METRICS_PORT); null: none.</summary>
    public int? MetricsPort { get; set; }

    /// <summary>The address that port listens on (GOQ_METRICS_ADDRESS); null for 127.0.0.1, this host only.</summary>
    public string? MetricsAddress { get; set; }

    /// <summary>A multi-user cluster (Initialize-GoqHome -MultiUser): users with keys and roles; null or false: one secret.</summary>
    public bool? MultiUser { get; set; }

    /// <summary>In a multi-user cluster, users list only their own jobs (Slurm's PrivateData=jobs); null or false: all.</summary>
    public bool? PrivateJobs { get; set; }

    /// <summary>
    /// The servers of the cluster, "host:port" each (Initialize-GoqHome -Servers, GOQ_SERVERS): one serves, the others
    /// stand by; clients and workers follow whichever serves. Null or one entry: the one server of ServerHost and Port.
    /// </summary>
    public string[]? Servers { get; set; }

    /// <summary>
    /// A PostgreSQL store's connection string without its password (Initialize-GoqHome -StoreConnectionString,
    /// GOQ_STORE); null: the SQLite file in .goq. The password is .goq/store.password's, or PGPASSFILE's.
    /// </summary>
    public string? StoreConnectionString { get; set; }

    /// <summary>Seconds the store's lease lasts without renewal, so the most a take-over waits (GOQ_LEASE_SEC); null for the default.</summary>
    public int? LeaseSec { get; set; }

    /// <summary>
    /// The folder under which output goes when a job's own folder cannot take it (GOQ_FALLBACK_OUTPUT_DIR); null: the
    /// home. With several servers it must be on storage they share.
    /// </summary>
    public string? FallbackOutputDir { get; set; }
}
