using Goq.Server.Scheduling;

namespace Goq.Server;

/// <summary>How a <see cref="GoqServer"/> listens and where it writes.</summary>
public sealed record GoqServerOptions
{
    /// <summary>ZeroMQ endpoint to bind, e.g. tcp://127.0.0.1:1776; port 0 binds a random free port.</summary>
    public required string BindEndpoint { get; init; }

    /// <summary>The home: output falls back to &lt;Home&gt;/&lt;OutputDir&gt; when a job's directory is not usable.</summary>
    public required string Home { get; init; }

    /// <summary>The cluster secret and the server's CURVE key pair. There is no unauthenticated mode.</summary>
    public required Configuration.ClusterCredentials Credentials { get; init; }

    /// <summary>How far a message's timestamp may be from this clock; also how long nonces are remembered.</summary>
    public TimeSpan ReplayWindow { get; init; } = TimeSpan.FromSeconds(Configuration.GoqDefaults.ReplayWindowSec);

    public string OutputDir { get; init; } = Configuration.GoqDefaults.OutputDir;

    /// <summary>
    /// The folder under which the fall-back output folder (<see cref="OutputDir"/>) is made when a job's own folder
    /// cannot take its output; null: <see cref="Home"/>. With several servers, on storage they share.
    /// </summary>
    public string? FallbackOutputRoot { get; init; }

    public int HeartbeatMs { get; init; } = Configuration.GoqDefaults.HeartbeatSec * 1000;

    /// <summary>Restart grace and dead-worker time; by default derived from the heartbeat.</summary>
    public SchedulerOptions? Scheduler { get; init; }

    /// <summary>The job database's file, for the status's size of the store (null: not reported).</summary>
    public string? StorePath { get; init; }

    /// <summary>The file <see cref="Log"/> writes to, as the status reports it (null: not reported).</summary>
    public string? LogPath { get; init; }

    /// <summary>The instruments the server feeds (its snapshot each tick, its histograms as things happen); null: none, and no cost.</summary>
    public Monitoring.ServerMetrics? Metrics { get; init; }

    /// <summary>Where its metrics and dashboard are served, as the status reports it (e.g. http://127.0.0.1:9464/metrics; null: not served).</summary>
    public string? MetricsUrl { get; init; }

    /// <summary>
    /// A multi-user cluster (Initialize-GoqHome -MultiUser): users sign with keys of their own, own their jobs and have
    /// roles; the cluster secret is the server's and its workers' only. False: one secret, whoever holds it is everyone.
    /// </summary>
    public bool MultiUser { get; init; }

    /// <summary>In a multi-user cluster, users list only their own jobs (Operators and Admins see all).</summary>
    public bool PrivateJobs { get; init; }

    /// <summary>
    /// The lease that lets this server write a store several servers share (PostgreSQL); null: the only server. Looked
    /// at every turn: once it is no longer held, the server steps down before it handles anything more.
    /// </summary>
    public Storage.IStoreLease? Lease { get; init; }

    /// <summary>Every configured server with its role, for Get-GoqServer -All (read on the loop thread when asked); null: this one only.</summary>
    public Func<List<ClusterServer>>? ClusterServers { get; init; }

    /// <summary>Which store holds the jobs, as the status reports it: SQLite or PostgreSQL.</summary>
    public string StoreKind { get; init; } = "SQLite";

    /// <summary>Where log lines go; never null (defaults to nowhere).</summary>
    public Action<Diagnostics.LogEntry> Log { get; init; } = _ => { };
}
