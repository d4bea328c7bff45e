using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>The scheduler's view of one worker process. Owned by the scheduler thread.</summary>
internal sealed class WorkerEntry(string id, PeerId peer)
{
    public string Id { get; } = id;

    public PeerId Peer { get; set; } = peer;

    public string Host { get; set; } = "";

    public int Pid { get; set; }

    public int Slots { get; set; }

    /// <summary>
    /// A worker started by a user of a multi-user cluster (signed with their key): it runs that user's jobs only, and
    /// is handed no one else's. Null: a worker of the cluster's (the cluster secret), which runs anyone's.
    /// </summary>
    public string? OnlyOwner { get; set; }

    /// <summary>How many jobs beyond its slots it takes ahead (it says so in its hello).</summary>
    public int Prefetch { get; set; }

    /// <summary>
    /// It gave a job back because no slot freed in time: its jobs are long, so it gets none ahead until one of them
    /// ends (otherwise the same job would go back and forth).
    /// </summary>
    public bool PrefetchPaused { get; set; }

    public bool OneShot { get; set; }

    /// <summary>A one-shot worker gets one job in all; then it is never idle again.</summary>
    public bool OneShotUsed { get; set; }

    /// <summary>Told to exit; gets no more jobs.</summary>
    public bool Stopping { get; set; }

    public string Version { get; set; } = "";

    public DateTimeOffset ConnectedAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    /// <summary>When it was last heard from, on the scheduler's steady clock: what its liveness is judged by.</summary>
    public TimeSpan LastSeenSteady { get; set; }

    /// <summary>The jobs it holds, running or taken ahead, with the slots they take.</summary>
    public WorkerJobs Running { get; } = new();

    /// <summary>The queues it serves.</summary>
    public HashSet<string> Queues { get; set; } = new(StringComparer.Ordinal) { JobSpec.DefaultQueue };

    /// <summary>What it offers (gpu, bigmem, ...).</summary>
    public HashSet<string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The waiting job its free slots are kept for (a wide job that waited too long), or null.</summary>
    public long? KeptFor { get; set; }

    /// <summary>How many jobs we have handed this worker in this server run.</summary>
    public long DispatchSeq { get; set; }

    /// <summary>For each running job we handed over, its dispatch number (to tell dispatches that never arrived).</summary>
    public Dictionary<long, long> DispatchedSeq { get; } = new();

    /// <summary>Jobs the worker says it runs that the scheduler does not know (its state was lost).</summary>
    public int ForeignRunning { get; set; }

    /// <summary>A send to it failed: no jobs go to it until it says hello again (a new relay) or is declared dead.</summary>
    public bool Detached { get; set; }

    public int FreeSlots => Stopping || Detached || (OneShot && OneShotUsed) ? 0 : Math.Max(0, Slots - Running.UsedSlots - ForeignRunning);

    /// <summary>How long its recent jobs ran (a moving average, in milliseconds); null before the first one ended.</summary>
    public double? RecentRunMs { get; private set; }

    /// <summary>See <see cref="SchedulerOptions.PrefetchHorizon"/>.</summary>
    public double PrefetchHorizonMs { get; init; } = 100;

    /// <summary>How many jobs it takes ahead now: as many as its slots run within the horizon, at most its Prefetch.</summary>
    public int AheadNow => RecentRunMs is { } run
        ? (int)Math.Min(Prefetch, Slots * Math.Floor(PrefetchHorizonMs / Math.Max(1, run)))
        : 0;

    /// <summary>Jobs it can still take ahead of a free slot, once it has none free.</summary>
    public int FreePrefetch => Stopping || Detached || OneShot || PrefetchPaused ? 0 : Math.Max(0, Slots + AheadNow - Running.UsedSlots - ForeignRunning);

    /// <summary>One of its jobs ran this long.</summary>
    public void NoteRun(TimeSpan run)
    {
        var ms = Math.Max(0, run.TotalMilliseconds);
        RecentRunMs = RecentRunMs is { } recent ? (0.8 * recent) + (0.2 * ms) : ms;
    }

    /// <summary>Its place in the line of workers that take jobs (see <see cref="WorkerPool"/>), if it is in one.</summary>
    public LinkedListNode<WorkerEntry>? Turn { get; set; }

    public WorkerInfo ToInfo() => new()
    {
        Id = Id,
        Host = Host,
        Pid = Pid,
        Slots = Slots,
        BusySlots = Math.Min(Slots, Running.UsedSlots + ForeignRunning),
        Prefetch = Prefetch,
        PrefetchedJobs = Math.Max(0, Running.UsedSlots + ForeignRunning - Slots),
        Queues = [.. Queues.Order(StringComparer.Ordinal)],
        Labels = [.. Labels.Order(StringComparer.Ordinal)],
        ConnectedAt = ConnectedAt,
        LastSeen = LastSeen,
        RunningJobs = Running.Order().ToList(),
        Version = Version,
    };
}
