namespace Goq.Worker;

/// <summary>How the <see cref="JobRunner"/> starts processes.</summary>
public sealed record JobRunnerOptions
{
    /// <summary>pwsh used for .ps1 scripts (and shell commands on Windows).</summary>
    public string PwshPath { get; init; } = "pwsh";

    /// <summary>Start each job in a session and process group of its own (through setsid on Linux).</summary>
    public bool NewProcessGroup { get; init; } = true;

    /// <summary>How long to wait, after the job's main process exits, for children still holding its output open.</summary>
    public TimeSpan OutputDrainGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Texts (the cluster secret) that no job may see in its environment, in a name or a value.</summary>
    public IReadOnlyCollection<string> Withheld { get; init; } = [];

    /// <summary>
    /// The command that starts a warm PowerShell runner for script-block jobs (given by the module, which knows where
    /// the runner is); null when this worker cannot run them.
    /// </summary>
    public IReadOnlyList<string>? ScriptRunnerCommand { get; init; }

    /// <summary>Jobs a runner runs before it is replaced by a fresh process.</summary>
    public int RunnerMaxJobs { get; init; } = Configuration.GoqDefaults.RunnerMaxJobs;

    /// <summary>Resident memory past which a runner is replaced after its job.</summary>
    public long RunnerMaxBytes { get; init; } = Configuration.GoqDefaults.RunnerMaxMemoryMiB * 1024L * 1024;

    /// <summary>How long an unused runner is kept.</summary>
    public TimeSpan RunnerIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A worker started by root in a multi-user cluster: each job runs as its owner (see <see cref="JobOwners"/>). Null:
    /// jobs run as the worker's own user.
    /// </summary>
    public JobOwners? Owners { get; init; }

    /// <summary>Serialized objects and records one script-block job may output; past it the job fails.</summary>
    public long MaxJobRecordBytes { get; init; } = 64L * 1024 * 1024;
}
