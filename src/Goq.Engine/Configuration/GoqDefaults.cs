namespace Goq.Configuration;

/// <summary>Built-in defaults, the last step of the precedence parameter &gt; environment &gt; config file &gt; default.</summary>
public static class GoqDefaults
{
    public const string ServerHost = "127.0.0.1";
    public const int Port = 1776;
    public const int HeartbeatSec = 5;
    public const string OutputDir = "o";
    public const int RequestTimeoutMs = 5000;

    /// <summary>Replay window: how far apart two hosts' clocks may be, and how long nonces are remembered.</summary>
    public const int ReplayWindowSec = 180;
    public const string DotDir = ".goq";

    /// <summary>How long Submit-GoqJob keeps sending a batch the server did not answer (a restart), in seconds.</summary>
    public const int SubmitRetrySec = 30;

    /// <summary>MiB of serialized objects (CliXml) one script-block job may output before it fails.</summary>
    public const int MaxJobRecordMiB = 64;

    /// <summary>How many of the most recent ended jobs Get-Job lists.</summary>
    public const int RecentJobs = 100;

    /// <summary>How far ahead (in milliseconds of their recent jobs' run time) busy workers are handed jobs.</summary>
    public const int PrefetchHorizonMs = 100;

    public const int KeepSlotsAfterSec = 300;

    /// <summary>Script-block jobs a warm pwsh runner runs before a fresh one replaces it.</summary>
    public const int RunnerMaxJobs = 10_000;

    /// <summary>Resident MiB past which a warm pwsh runner is replaced after its job.</summary>
    public const int RunnerMaxMemoryMiB = 1024;

    /// <summary>Metrics and the dashboard listen on this host only unless told otherwise: the dashboard shows commands and output.</summary>
    public const string MetricsAddress = "127.0.0.1";

    /// <summary>
    /// Seconds a server's lease on a shared store lasts unrenewed: a standby takes over within this (and a second's
    /// look) of the active server's death. Renewed five times a lease; a holder counts on 80% of it.
    /// </summary>
    public const int LeaseSec = 10;
}
