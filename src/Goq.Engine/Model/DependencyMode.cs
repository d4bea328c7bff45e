namespace Goq;

/// <summary>What a job's dependencies (<c>-DependsOn</c>) must do before it runs (Slurm's afterok, afterany, afternotok).</summary>
public enum DependencyMode
{
    /// <summary>Every one of them must complete (exit 0); if one does not, the job ends DependencyFailed.</summary>
    AfterOk,

    /// <summary>Every one of them must end, however it ends.</summary>
    AfterAny,

    /// <summary>Every one of them must end, and at least one must not complete (a clean-up step); if all complete, DependencyFailed.</summary>
    AfterNotOk,
}
