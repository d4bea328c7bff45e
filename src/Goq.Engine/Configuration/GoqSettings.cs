using System.Net;
using System.Text.Json;
using Goq.Errors;

namespace Goq.Configuration;

/// <summary>
/// A home's settings with the precedence applied: parameter &gt; environment variable (GOQ_JSERV_IP, GOQ_JSERV_PORT,
/// GOQ_HEARTBEAT_SEC, GOQ_ODIR) &gt; <c>.goq/config.json</c> &gt; default.
/// </summary>
public sealed record GoqSettings
{
    public required string Home { get; init; }

    public string DotDir => Path.Combine(Home, GoqDefaults.DotDir);

    public string ConfigPath => Path.Combine(DotDir, "config.json");

    /// <summary>The server's pid file; with several servers, one per port, so two can share a home on one host.</summary>
    public string PidPath => Path.Combine(DotDir, Servers.Count > 1 ? $"server.{Port}.pid" : "server.pid");

    public string LockPath => Path.Combine(DotDir, Servers.Count > 1 ? $"server.{Port}.lock" : "server.lock");

    public string ServerLogPath => Path.Combine(DotDir, Servers.Count > 1 ? $"server.{Port}.log" : "server.log");

    /// <summary>The log every worker, relay and job keeper of this host writes, one JSON object a line.</summary>
    public string WorkerLogPath => Path.Combine(DotDir, $"worker-{Environment.MachineName}.log");

    /// <summary>
    /// Where a detached role's own standard error goes (the runtime's crash text, the reason it could not start): apart
    /// from its JSON log, so the log stays one object a line. <paramref name="role"/> is <c>server</c>, or
    /// <c>worker.&lt;id8&gt;</c> and <c>keeper.&lt;id8&gt;</c>.
    /// </summary>
    public string StderrPath(string role) => Path.Combine(DotDir, "run", $"{role}.stderr");

    public string DatabasePath => Path.Combine(DotDir, "goq.db");

    public string ServerHost { get; init; } = GoqDefaults.ServerHost;

    public int Port { get; init; } = GoqDefaults.Port;

    public string? BindAddress { get; init; }

    public int HeartbeatSec { get; init; } = GoqDefaults.HeartbeatSec;

    /// <summary>Seconds of silence after which a worker is dead (GOQ_DEAD_WORKER_SEC); default three heartbeats.</summary>
    public int DeadWorkerSec { get; init; } = 3 * GoqDefaults.HeartbeatSec;

    public string OutputDir { get; init; } = GoqDefaults.OutputDir;

    /// <summary>How long a request waits for the server's answer (GOQ_CONNECT_TIMEOUT_SEC, config ConnectTimeoutSec, default 5 s).</summary>
    public int RequestTimeoutMs { get; init; } = GoqDefaults.RequestTimeoutMs;

    /// <summary>How far a message's timestamp may be from this clock (GOQ_REPLAY_WINDOW_SEC, config, default).</summary>
    public int ReplayWindowSec { get; init; } = GoqDefaults.ReplayWindowSec;

    public TimeSpan ReplayWindow => TimeSpan.FromSeconds(ReplayWindowSec);

    /// <summary>How long a submit is retried across a server restart (GOQ_SUBMIT_RETRY_SEC, config, default 30 s).</summary>
    public int SubmitRetrySec { get; init; } = GoqDefaults.SubmitRetrySec;

    /// <summary>A multi-user cluster's home (config MultiUser, set by Initialize-GoqHome -MultiUser).</summary>
    public bool MultiUser { get; init; }

    /// <summary>Users of a multi-user cluster list only their own jobs (config PrivateJobs).</summary>
    public bool PrivateJobs { get; init; }

    /// <summary>How many of the most recent ended jobs Get-Job lists besides the active ones (GOQ_RECENT_JOBS, config RecentJobs, default 100).</summary>
    public int RecentJobs { get; init; } = GoqDefaults.RecentJobs;

    /// <summary>
    /// Serialized objects and records a script-block job may output before it fails (GOQ_MAX_JOB_RECORD_MIB, config
    /// MaxJobRecordMiB, default 64 MiB). Enforced by the worker that runs the job.
    /// </summary>
    public long MaxJobRecordBytes { get; init; } = GoqDefaults.MaxJobRecordMiB * 1024L * 1024;

    /// <summary>
    /// The server hands a worker whose slots are busy as many jobs ahead as its slots get through in this many
    /// milliseconds of its recent jobs' run time (GOQ_PREFETCH_HORIZON_MS, config PrefetchHorizonMs, default 100).
    /// </summary>
    public int PrefetchHorizonMs { get; init; } = GoqDefaults.PrefetchHorizonMs;

    /// <summary>
    /// A job needing more slots than any worker has free that has waited this many seconds gets slots kept for it: one
    /// worker that could run it takes no smaller jobs until it fits (GOQ_KEEP_SLOTS_AFTER_SEC, config KeepSlotsAfterSec,
    /// default 300; 0 keeps them at once).
    /// </summary>
    public int KeepSlotsAfterSec { get; init; } = GoqDefaults.KeepSlotsAfterSec;

    /// <summary>Script-block jobs a worker's warm pwsh runner runs before a fresh one replaces it (GOQ_RUNNER_MAX_JOBS, config RunnerMaxJobs, default 10,000).</summary>
    public int RunnerMaxJobs { get; init; } = GoqDefaults.RunnerMaxJobs;

    /// <summary>Resident memory past which a runner is replaced after its job (GOQ_RUNNER_MAX_MEMORY_MIB, config RunnerMaxMemoryMiB, default 1,024 MiB).</summary>
    public long RunnerMaxBytes { get; init; } = GoqDefaults.RunnerMaxMemoryMiB * 1024L * 1024;

    /// <summary>Reads this home's credentials (see <see cref="ClusterCredentials"/>); the server's secret key only for a server.</summary>
    /// <summary>The port for metrics and the dashboard (Start-GoqServer -MetricsPort, GOQ_METRICS_PORT, config MetricsPort); null: not served.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>The address the metrics port listens on (-MetricsAddress, GOQ_METRICS_ADDRESS, config); default 127.0.0.1.</summary>
    public string MetricsAddress { get; init; } = GoqDefaults.MetricsAddress;

    /// <summary>These settings with a metrics port and address given as parameters, where given (they win over the rest).</summary>
    public GoqSettings WithMetrics(int? port, string? address) =>
        this with { MetricsPort = port ?? MetricsPort, MetricsAddress = address ?? MetricsAddress };

    public ClusterCredentials LoadCredentials(bool forServer = false) => ClusterCredentials.Load(DotDir, forServer);

    /// <summary>
    /// The cluster's servers, "host:port" each (config Servers, GOQ_SERVERS); empty: the one server at ServerHost:Port.
    /// </summary>
    public IReadOnlyList<string> Servers { get; init; } = [];

    /// <summary>A PostgreSQL store's connection string, without its password (GOQ_STORE, config); null: SQLite.</summary>
    public string? StoreConnectionString { get; init; }

    /// <summary>Where a PostgreSQL store's password is kept (mode 0600); used when it exists.</summary>
    public string StorePasswordPath => Path.Combine(DotDir, "store.password");

    /// <summary>Seconds a server's lease on a shared store lasts (GOQ_LEASE_SEC, config LeaseSec, default 10).</summary>
    public int LeaseSec { get; init; } = GoqDefaults.LeaseSec;

    /// <summary>The folder under which output goes when a job's own folder cannot take it (GOQ_FALLBACK_OUTPUT_DIR, config); null: the home.</summary>
    public string? FallbackOutputDir { get; init; }

    /// <summary>
    /// Where clients and workers connect: the one server's endpoint, or every server's, comma-separated (they connect
    /// to all, and only the one that serves answers).
    /// </summary>
    public string Endpoint => Servers.Count > 1
        ? string.Join(',', Servers.Select(s => $"tcp://{s}"))
        : $"tcp://{ServerHost}:{Port}";

    /// <summary>This server's own endpoint, as clients reach it: its entry of <see cref="Servers"/> for its port, else ServerHost:Port.</summary>
    public string OwnEndpoint => ServerEntry.Own(Servers, Port) is { } own ? $"tcp://{own.Host}:{own.Port}" : $"tcp://{ServerHost}:{Port}";

    /// <summary>Where the server binds.</summary>
    public string BindEndpoint =>
        $"tcp://{BindAddress ?? (ServerEntry.Own(Servers, Port)?.Host ?? ServerHost) switch { var host when IPAddress.TryParse(host, out _) => host, _ => "*" }}:{Port}";

    /// <summary>The home to use: the given one, else $GOQ_HOME, else the user's home directory.</summary>
    public static string ResolveHome(string? home)
    {
        var chosen = !string.IsNullOrWhiteSpace(home) ? home
            : Environment.GetEnvironmentVariable("GOQ_HOME") is { Length: > 0 } env ? env
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.GetFullPath(chosen);
    }

    /// <summary>Loads an initialized home; fails with <see cref="GoqErrorIds.HomeNotInitialized"/> otherwise.</summary>
    public static GoqSettings Load(string? home, int? port = null)
    {
        var root = ResolveHome(home);
        var probe = new GoqSettings { Home = root };
        if (!File.Exists(probe.ConfigPath))
        {
            throw new GoqException(GoqErrorIds.HomeNotInitialized, GoqErrorKind.ResourceUnavailable,
                $"'{root}' is not a Goq home (no {probe.ConfigPath}); run Initialize-GoqHome first")
            { Target = root };
        }

        var config = ReadConfig(probe.ConfigPath);
        return FromConfig(root, config, port);
    }

    internal static GoqSettings FromConfig(string root, GoqConfig config, int? port = null)
    {
        var heartbeat = EnvInt("GOQ_HEARTBEAT_SEC") ?? config.HeartbeatSec;
        var servers = Env("GOQ_SERVERS") is { } listed
            ? listed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : config.Servers ?? [];
        foreach (var server in servers)
        {
            try
            {
                _ = ServerEntry.Parse(server);
            }
            catch (JsonException ex)
            {
                throw new GoqException(GoqErrorIds.InvalidConfig, GoqErrorKind.InvalidArgument, $"{ex.Message} (GOQ_SERVERS or the config's Servers)") { Target = server };
            }
        }

        var first = servers.Length > 0 ? ServerEntry.Parse(servers[0]) : ((string Host, int Port)?)null;
        return new GoqSettings
        {
            Home = root,
            Servers = servers,
            // With a server list, a server's port is its -Port (or its own entry's); a client's host and port are the first entry's.
            ServerHost = Env("GOQ_JSERV_IP") ?? first?.Host ?? config.ServerHost,
            Port = port ?? EnvInt("GOQ_JSERV_PORT") ?? ServerEntry.OwnPort(servers) ?? first?.Port ?? config.Port,
            StoreConnectionString = Env("GOQ_STORE") ?? config.StoreConnectionString,
            LeaseSec = Math.Max(2, EnvInt("GOQ_LEASE_SEC") ?? config.LeaseSec ?? GoqDefaults.LeaseSec),
            FallbackOutputDir = Env("GOQ_FALLBACK_OUTPUT_DIR") ?? config.FallbackOutputDir,
            BindAddress = config.BindAddress,
            HeartbeatSec = heartbeat,
            DeadWorkerSec = Math.Max(heartbeat + 1, EnvInt("GOQ_DEAD_WORKER_SEC") ?? config.DeadWorkerSec ?? 3 * heartbeat),
            OutputDir = Env("GOQ_ODIR") ?? config.OutputDir,
            ReplayWindowSec = EnvInt("GOQ_REPLAY_WINDOW_SEC") ?? config.ReplayWindowSec ?? GoqDefaults.ReplayWindowSec,
            SubmitRetrySec = EnvInt("GOQ_SUBMIT_RETRY_SEC") ?? config.SubmitRetrySec ?? GoqDefaults.SubmitRetrySec,
            RecentJobs = Math.Max(0, EnvInt("GOQ_RECENT_JOBS") ?? config.RecentJobs ?? GoqDefaults.RecentJobs),
            RequestTimeoutMs = Math.Max(1, EnvInt("GOQ_CONNECT_TIMEOUT_SEC") ?? config.ConnectTimeoutSec ?? GoqDefaults.RequestTimeoutMs / 1000) * 1000,
            MaxJobRecordBytes = Math.Max(1, EnvInt("GOQ_MAX_JOB_RECORD_MIB") ?? config.MaxJobRecordMiB ?? GoqDefaults.MaxJobRecordMiB) * 1024L * 1024,
            PrefetchHorizonMs = Math.Max(0, EnvInt("GOQ_PREFETCH_HORIZON_MS", zeroAllowed: true) ?? config.PrefetchHorizonMs ?? GoqDefaults.PrefetchHorizonMs),
            KeepSlotsAfterSec = Math.Max(0, EnvInt("GOQ_KEEP_SLOTS_AFTER_SEC", zeroAllowed: true) ?? config.KeepSlotsAfterSec ?? GoqDefaults.KeepSlotsAfterSec),
            RunnerMaxJobs = Math.Max(1, EnvInt("GOQ_RUNNER_MAX_JOBS") ?? config.RunnerMaxJobs ?? GoqDefaults.RunnerMaxJobs),
            RunnerMaxBytes = Math.Max(1, EnvInt("GOQ_RUNNER_MAX_MEMORY_MIB") ?? config.RunnerMaxMemoryMiB ?? GoqDefaults.RunnerMaxMemoryMiB) * 1024L * 1024,
            MetricsPort = EnvInt("GOQ_METRICS_PORT") ?? config.MetricsPort,
            MetricsAddress = Env("GOQ_METRICS_ADDRESS") ?? config.MetricsAddress ?? GoqDefaults.MetricsAddress,
            MultiUser = config.MultiUser == true,
            PrivateJobs = config.PrivateJobs == true,
        };
    }

    public static GoqConfig ReadConfig(string path)
    {
        try
        {
            var config = JsonSerializer.Deserialize(File.ReadAllBytes(path), ConfigJsonContext.Default.GoqConfig)
                ?? throw new JsonException("empty file");
            Validate(config, path);
            return config;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new GoqException(GoqErrorIds.InvalidConfig, GoqErrorKind.InvalidData,
                $"cannot read the Goq config '{path}': {ex.Message}", ex) { Target = path };
        }
    }

    private static void Validate(GoqConfig config, string path)
    {
        foreach (var server in config.Servers ?? [])
        {
            _ = ServerEntry.Parse(server); // throws JsonException, naming it
        }

        if (config.Port is < 1 or > 65535 || config.LeaseSec is < 2 || config.MetricsPort is < 1 or > 65535 || config.HeartbeatSec < 1 || config.ReplayWindowSec is < 1 || config.SubmitRetrySec is < 0 || string.IsNullOrWhiteSpace(config.ServerHost)
            || string.IsNullOrWhiteSpace(config.OutputDir))
        {
            throw new JsonException($"invalid values in {path}");
        }
    }

    private static string? Env(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static int? EnvInt(string name, bool zeroAllowed = false) =>
        int.TryParse(Env(name), out var value) && (value > 0 || (zeroAllowed && value == 0)) ? value : null;
}
