namespace Goq;

/// <summary>A worker process: what <c>Start-GoqWorker</c> and <c>Get-GoqWorker</c> return.</summary>
public sealed class WorkerInfo
{
    /// <summary>Stable id chosen by the worker at start (a GUID).</summary>
    public string Id { get; set; } = "";

    public string Host { get; set; } = "";

    public int Pid { get; set; }

    public int Slots { get; set; }

    public int BusySlots { get; set; }

    /// <summary>How many jobs beyond its slots it takes ahead, to start each the moment a slot frees.</summary>
    public int Prefetch { get; set; }

    /// <summary>Jobs handed to it ahead that wait there for a free slot (they show as Running, without a start time).</summary>
    public int PrefetchedJobs { get; set; }

    /// <summary>The queues it serves.</summary>
    public string[] Queues { get; set; } = [JobSpec.DefaultQueue];

    /// <summary>What it offers; a job that requires labels runs only where all of them are.</summary>
    public string[] Labels { get; set; } = [];

    public DateTimeOffset ConnectedAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    /// <summary>The jobs it holds: running, and handed to it ahead.</summary>
    public IReadOnlyList<long> RunningJobs { get; set; } = [];

    public string Version { get; set; } = "";

    public override string ToString() => $"Goq worker {Host}/{Id}";
}
