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

    public DateTimeOffset ConnectedAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public IReadOnlyList<long> RunningJobs { get; set; } = [];

    public string Version { get; set; } = "";

    public override string ToString() => $"Goq worker {Host}/{Id}";
}
