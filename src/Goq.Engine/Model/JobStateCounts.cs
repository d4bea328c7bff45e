namespace Goq;

/// <summary>How many jobs the server holds in each state (ended ones until Remove-GoqJob removes them): Get-GoqServer's <c>Jobs</c>.</summary>
public sealed class JobStateCounts
{
    public long Waiting { get; set; }

    public long Running { get; set; }

    public long Blocked { get; set; }

    public long Held { get; set; }

    public long Completed { get; set; }

    public long Failed { get; set; }

    public long Cancelled { get; set; }

    public long DependencyFailed { get; set; }

    public long Total => Waiting + Running + Blocked + Held + Completed + Failed + Cancelled + DependencyFailed;

    public void Add(JobState state, long count)
    {
        switch (state)
        {
            case JobState.Waiting: Waiting += count; break;
            case JobState.Running: Running += count; break;
            case JobState.Blocked: Blocked += count; break;
            case JobState.Held: Held += count; break;
            case JobState.Completed: Completed += count; break;
            case JobState.Failed: Failed += count; break;
            case JobState.Cancelled: Cancelled += count; break;
            case JobState.DependencyFailed: DependencyFailed += count; break;
        }
    }

    /// <summary>The states that have jobs, e.g. "Running 2, Completed 140, Failed 3".</summary>
    public override string ToString()
    {
        var parts = new (string Name, long Count)[]
        {
            (nameof(Waiting), Waiting), (nameof(Running), Running), (nameof(Blocked), Blocked), (nameof(Held), Held),
            (nameof(Completed), Completed), (nameof(Failed), Failed), (nameof(Cancelled), Cancelled), (nameof(DependencyFailed), DependencyFailed),
        }.Where(p => p.Count > 0).Select(p => $"{p.Name} {p.Count:N0}");
        return string.Join(", ", parts) is { Length: > 0 } text ? text : "none";
    }
}
