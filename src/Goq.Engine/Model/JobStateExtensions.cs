namespace Goq;

/// <summary>Helpers over <see cref="JobState"/>.</summary>
public static class JobStateExtensions
{
    /// <summary>The states a job never leaves (unless Restart-GoqJob runs it again).</summary>
    public static IReadOnlyList<JobState> Terminal { get; } = [JobState.Completed, JobState.Failed, JobState.Cancelled, JobState.DependencyFailed];

    /// <summary>True for states a job never leaves.</summary>
    public static bool IsTerminal(this JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Cancelled or JobState.DependencyFailed;
}
