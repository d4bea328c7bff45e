namespace Goq.Server.Scheduling;

/// <summary>
/// Which blocked jobs wait for which (<c>-DependsOn</c>), and what each job's end means for them. The scheduler says
/// what is submitted and what ends; the graph answers which blocked jobs may now wait for a slot and which can never
/// run, so none is left in limbo. Costs are per edge: a chain or a fan of any size is settled in one pass.
/// Owned by the scheduler thread.
/// </summary>
internal sealed class DependencyGraph
{
    private const int NamedInReason = 3;
    private const int SortedInReason = 64;
    private readonly Dictionary<long, Node> _blocked = new();
    private readonly Dictionary<long, List<long>> _dependents = new();

    /// <summary>How many jobs are blocked.</summary>
    public int Count => _blocked.Count;

    /// <summary>
    /// A job with dependencies, each given with how it ended (null: not yet). Says whether it is ready, can never run,
    /// or is blocked (then the graph keeps it until one of the other answers comes from <see cref="Ended"/>).
    /// </summary>
    public Verdict Add(long jobId, DependencyMode mode, IEnumerable<(long Id, JobState? Ended)> dependencies)
    {
        var node = new Node(mode);
        foreach (var (id, ended) in dependencies)
        {
            if (ended is { } state)
            {
                node.Saw(id, state);
            }
            else if (node.Pending.Add(id))
            {
                (_dependents.TryGetValue(id, out var list) ? list : _dependents[id] = []).Add(jobId);
            }
        }

        var verdict = node.Verdict();
        if (verdict.Outcome == DependencyOutcome.Blocked)
        {
            _blocked[jobId] = node;
        }
        else
        {
            Forget(jobId, node);
        }

        return verdict;
    }

    /// <summary>
    /// A job ended: the blocked jobs that waited for it, with their verdicts (ready, never to run, or still blocked with
    /// a new reason).
    /// </summary>
    public IReadOnlyList<(long JobId, Verdict Verdict)> Ended(long jobId, JobState state)
    {
        if (!_dependents.Remove(jobId, out var waiting))
        {
            return [];
        }

        var settled = new List<(long, Verdict)>();
        foreach (var dependent in waiting)
        {
            if (!_blocked.TryGetValue(dependent, out var node) || !node.Pending.Remove(jobId))
            {
                continue; // settled already, or cancelled
            }

            node.Saw(jobId, state);
            var verdict = node.Verdict();
            if (verdict.Outcome != DependencyOutcome.Blocked)
            {
                _blocked.Remove(dependent);
                Forget(dependent, node);
            }

            settled.Add((dependent, verdict));
        }

        return settled;
    }

    /// <summary>A blocked job leaves the graph without being settled by it (it was cancelled).</summary>
    public void Remove(long jobId)
    {
        if (_blocked.Remove(jobId, out var node))
        {
            Forget(jobId, node);
        }
    }

    /// <summary>Why a blocked job does not run yet: what it waits for.</summary>
    public string? Reason(long jobId) => _blocked.TryGetValue(jobId, out var node) ? node.Verdict().Reason : null;

    private void Forget(long jobId, Node node)
    {
        foreach (var id in node.Pending)
        {
            if (_dependents.TryGetValue(id, out var list))
            {
                list.Remove(jobId);
                if (list.Count == 0)
                {
                    _dependents.Remove(id);
                }
            }
        }
    }

    /// <summary>The jobs a blocked job waits for, for its reason: named when few, counted when many (it is redone at each end).</summary>
    private static string Jobs(HashSet<long> ids)
    {
        if (ids.Count > SortedInReason)
        {
            return $"{ids.Count:N0} jobs (among them job {ids.First()})";
        }

        var sorted = ids.Order().ToList();
        var named = string.Join(", ", sorted.Take(NamedInReason));
        return (sorted.Count == 1 ? "job " : "jobs ") + named + (sorted.Count > NamedInReason ? $" and {sorted.Count - NamedInReason:N0} more" : "");
    }

    /// <summary>What a blocked job has seen of its dependencies.</summary>
    private sealed class Node(DependencyMode mode)
    {
        public HashSet<long> Pending { get; } = [];

        /// <summary>The first dependency that ended without completing, and how.</summary>
        private (long Id, JobState State)? _notOk;

        public void Saw(long id, JobState state)
        {
            if (state != JobState.Completed && _notOk is null)
            {
                _notOk = (id, state);
            }
        }

        public Verdict Verdict() => mode switch
        {
            DependencyMode.AfterOk when _notOk is { } broken =>
                new(DependencyOutcome.Failed, $"job {broken.Id} it depends on ended {broken.State}"),
            DependencyMode.AfterOk or DependencyMode.AfterAny when Pending.Count == 0 => new(DependencyOutcome.Ready, null),
            DependencyMode.AfterNotOk when Pending.Count == 0 => _notOk is null
                ? new(DependencyOutcome.Failed, "every job it depends on completed (-DependencyMode AfterNotOk runs only if one does not)")
                : new(DependencyOutcome.Ready, null),
            DependencyMode.AfterOk => new(DependencyOutcome.Blocked, $"waiting for {Jobs(Pending)} to complete"),
            _ => new(DependencyOutcome.Blocked, $"waiting for {Jobs(Pending)} to end"),
        };
    }
}

/// <summary>What a job's dependencies allow now.</summary>
internal enum DependencyOutcome
{
    Ready,
    Blocked,
    Failed,
}

/// <summary>A blocked job's verdict, with the reason shown for it (what it waits for, or why it can never run).</summary>
internal readonly record struct Verdict(DependencyOutcome Outcome, string? Reason);
