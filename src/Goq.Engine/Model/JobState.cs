namespace Goq;

/// <summary>
/// Where a job is in its life. Terminal states are Completed, Failed, Cancelled and DependencyFailed; a job that has not
/// started is Held (held back), Blocked (waiting for its dependencies) or Waiting (for a slot), in that order of precedence.
/// </summary>
public enum JobState
{
    Waiting,
    Running,
    Completed,
    Failed,
    Cancelled,

    /// <summary>Waiting for the jobs it depends on (<c>-DependsOn</c>) before it can wait for a slot.</summary>
    Blocked,

    /// <summary>Ended without running: a job it depends on ended in a way that can no longer meet its dependency.</summary>
    DependencyFailed,

    /// <summary>Held back by a user (<c>-Hold</c>, <c>Suspend-GoqJob</c>) until <c>Resume-GoqJob</c>.</summary>
    Held,
}
