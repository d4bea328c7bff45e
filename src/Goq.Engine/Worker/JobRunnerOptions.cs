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

    /// <summary>Longest line passed on in one piece; longer lines are split.</summary>
    public int MaxLineChars { get; init; } = 32 * 1024;
}
