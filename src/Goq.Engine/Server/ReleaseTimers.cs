namespace Goq.Server;

/// <summary>
/// When jobs may start (<c>-NotBefore</c>, a retry's <c>-RetryDelaySec</c>): the scheduler asks for the jobs whose
/// time has come as time passes. Each operation costs O(log n). Owned by the scheduler thread.
/// </summary>
internal sealed class ReleaseTimers
{
    private readonly SortedSet<(DateTimeOffset At, long Id)> _timers = [];
    private readonly Dictionary<long, DateTimeOffset> _at = new();

    public int Count => _at.Count;

    /// <summary>The job may start at <paramref name="at"/> (a later call for the same job replaces its time).</summary>
    public void Set(long id, DateTimeOffset at)
    {
        Remove(id);
        _timers.Add((at, id));
        _at[id] = at;
    }

    public bool Remove(long id)
    {
        if (!_at.Remove(id, out var at))
        {
            return false;
        }

        _timers.Remove((at, id));
        return true;
    }

    /// <summary>Takes out the jobs whose time is <paramref name="now"/> or earlier, earliest first.</summary>
    public List<long> TakeDue(DateTimeOffset now)
    {
        var due = new List<long>();
        while (_timers.Count > 0 && _timers.Min is var (at, id) && at <= now)
        {
            _timers.Remove((at, id));
            _at.Remove(id);
            due.Add(id);
        }

        return due;
    }
}
