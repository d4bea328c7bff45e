namespace Goq.Worker;

/// <summary>How a <see cref="GoqWorker"/> connects and runs jobs.</summary>
public sealed record GoqWorkerOptions
{
    /// <summary>The server's endpoint, e.g. tcp://127.0.0.1:1776.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The cluster secret and the server's public key. There is no unauthenticated mode.</summary>
    public required Configuration.ClusterCredentials Credentials { get; init; }

    /// <summary>How far a server message's timestamp may be from this clock.</summary>
    public TimeSpan ReplayWindow { get; init; } = TimeSpan.FromSeconds(Configuration.GoqDefaults.ReplayWindowSec);

    /// <summary>Stable id of this worker process (a GUID, chosen at start).</summary>
    public string WorkerId { get; init; } = Guid.NewGuid().ToString("N");

    public int Slots { get; init; } = Environment.ProcessorCount;

    /// <summary>The queues it serves (null or empty: the default queue).</summary>
    public IReadOnlyList<string>? Queues { get; init; }

    /// <summary>What it offers (gpu, bigmem, ...): a job that requires labels runs only on a worker with all of them.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Run one job, then exit.</summary>
    public bool OneShot { get; init; }

    /// <summary>
    /// At most how many jobs beyond its slots the worker takes ahead, each started the moment a slot frees (null: eight
    /// per slot; 0: none). Short jobs then follow one another without a round trip to the server in between; the server
    /// hands a worker only as many as its slots get through in a tenth of a second (see SchedulerOptions.PrefetchHorizon).
    /// </summary>
    public int? Prefetch { get; init; }

    /// <summary>How long a job taken ahead may wait for a slot before it is given back to the server.</summary>
    public TimeSpan PrefetchHold { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The jobs taken ahead, as announced: none for a one-shot worker.</summary>
    public int EffectivePrefetch => OneShot ? 0 : Math.Clamp(Prefetch ?? (8 * Slots), 0, Protocol.WorkerHello.MaxSlots);

    public int HeartbeatMs { get; init; } = Configuration.GoqDefaults.HeartbeatSec * 1000;

    /// <summary>How often the output of running jobs is sent to the server.</summary>
    public int OutputFlushMs { get; init; } = 50;

    public JobRunnerOptions Runner { get; init; } = new();

    /// <summary>
    /// Unacknowledged output one job may hold (in bytes of memory) before its pipes stop being read; and all jobs
    /// together. A job writing faster than the server stores waits on its pipe instead of growing the worker.
    /// </summary>
    public long JobOutputBudget { get; init; } = 4L * 1024 * 1024;

    public long WorkerOutputBudget { get; init; } = 16L * 1024 * 1024;

    /// <summary>Where this host's workers keep their job ledgers (see JobLedger); null keeps none.</summary>
    public string? LedgerDirectory { get; init; }

    /// <summary>Run as a job keeper behind a relay (see <see cref="KeeperOptions"/>); null to talk to the server itself.</summary>
    public KeeperOptions? Keeper { get; init; }

    public Action<Diagnostics.LogEntry> Log { get; init; } = _ => { };
}
