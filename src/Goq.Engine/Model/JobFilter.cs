namespace Goq;

/// <summary>
/// What Get-GoqJob's -Name, -Since, -Until, -SubmittedBy and -Queue ask, applied by the server's store. A job matches the
/// time window as Slurm's sacct does: it was in the queue at some moment between <see cref="Since"/> and
/// <see cref="Until"/> (submitted by Until, not ended before Since).
/// </summary>
public sealed record JobFilter
{
    public DateTimeOffset? Since { get; init; }

    public DateTimeOffset? Until { get; init; }

    /// <summary><c>user@host</c>, or a user name alone (any host); case-insensitive.</summary>
    public string? SubmittedBy { get; init; }

    public IReadOnlyList<string>? Queues { get; init; }

    /// <summary>Only jobs of this owner, exactly (a multi-user cluster's private job list, or Get-GoqJob -Owner).</summary>
    public string? Owner { get; init; }

    /// <summary>Jobs whose name matches any of these wildcard patterns (Get-GoqJob -Name; see <see cref="NamePattern"/>).</summary>
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>Only tasks of array jobs with these indices (Get-GoqJob -ArrayIndex).</summary>
    public IReadOnlyList<int>? ArrayIndexes { get; init; }

    /// <summary>False: no tasks of array jobs (Get-Job lists jobs, and an array is not a PowerShell job); null: any.</summary>
    public bool? ArrayTasks { get; init; }

    /// <summary>False: no jobs dismissed from Get-Job (<see cref="JobInfo.Dismissed"/>); true: only those; null: any.</summary>
    public bool? Dismissed { get; init; }

    public bool IsEmpty => Since is null && Until is null && SubmittedBy is null && Owner is null && Queues is null && Names is null && ArrayIndexes is null && ArrayTasks is null
        && Dismissed is null;

    public bool Matches(JobInfo job) =>
        (Since is not { } since || job.FinishedAt is not { } finished || finished >= since)
        && (Until is not { } until || job.SubmittedAt <= until)
        && (SubmittedBy is not { } by || job.SubmittedBy.Equals(by, StringComparison.OrdinalIgnoreCase)
            || (!by.Contains('@') && job.SubmittedBy.StartsWith(by + "@", StringComparison.OrdinalIgnoreCase)))
        && (Owner is not { } owner || string.Equals(job.Owner, owner, StringComparison.Ordinal))
        && (Queues is not { } queues || queues.Contains(job.Queue, StringComparer.Ordinal))
        && (ArrayIndexes is not { } indexes || (job.ArrayIndex is { } index && indexes.Contains(index)))
        && (ArrayTasks != false || job.ArrayJobId is null)
        && (Dismissed is not { } dismissed || job.Dismissed == dismissed)
        && (Names is not { } names || NamesMatcher(names)(job.Name));

    // Compiled once per list of patterns (a copy made by `with` may have another list).
    private (IReadOnlyList<string> For, Func<string?, bool> Matches)? _names;

    private Func<string?, bool> NamesMatcher(IReadOnlyList<string> names)
    {
        if (_names is not { } cached || !ReferenceEquals(cached.For, names))
        {
            _names = cached = (names, NameMatcher(names));
        }

        return cached.Matches;
    }

    /// <summary>Whether a name matches any of <paramref name="patterns"/>.</summary>
    public static Func<string?, bool> NameMatcher(IReadOnlyList<string> patterns)
    {
        var compiled = patterns.Select(p => new NamePattern(p)).ToList();
        return name => compiled.Any(p => p.IsMatch(name));
    }
}
