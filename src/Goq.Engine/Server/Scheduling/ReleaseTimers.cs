using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// When jobs may start: a <c>-NotBefore</c> time is a time of day, on the wall clock; a retry's <c>-RetryDelaySec</c> is
/// a duration, on the steady clock, so a step of the wall clock neither starts a retry early nor holds it back. The
/// scheduler asks for the jobs whose time has come as time passes. Each operation costs O(log n). Owned by the
/// scheduler thread.
/// </summary>
internal sealed class ReleaseTimers
{
    private readonly SortedSet<(DateTimeOffset At, long Id)> _wall = [];
    private readonly SortedSet<(TimeSpan At, long Id)> _steady = [];
    private readonly Dictionary<long, (DateTimeOffset? Wall, TimeSpan Steady)> _at = new();

    public int Count => _at.Count;

    /// <summary>True while the job waits for its time.</summary>
    public bool Contains(long id) => _at.ContainsKey(id);

    /// <summary>The job may start at <paramref name="at"/>, a wall-clock time (a later call for the same job replaces its time).</summary>
    public void Set(long id, DateTimeOffset at)
    {
        Remove(id);
        _wall.Add((at, id));
        _at[id] = (at, default);
    }

    /// <summary>The job may start once the steady clock reads <paramref name="at"/> (see <see cref="Instant.Steady"/>).</summary>
    public void SetSteady(long id, TimeSpan at)
    {
        Remove(id);
        _steady.Add((at, id));
        _at[id] = (null, at);
    }

    public bool Remove(long id)
    {
        if (!_at.Remove(id, out var at))
        {
            return false;
        }

        _ = at.Wall is { } wall ? _wall.Remove((wall, id)) : _steady.Remove((at.Steady, id));
        return true;
    }

    /// <summary>Takes out the jobs whose time is <paramref name="now"/> or earlier.</summary>
    public List<long> TakeDue(Instant now)
    {
        var due = new List<long>();
        while (_wall.Count > 0 && _wall.Min is var (at, id) && at <= now.Wall)
        {
            _wall.Remove((at, id));
            _at.Remove(id);
            due.Add(id);
        }

        while (_steady.Count > 0 && _steady.Min is var (at, id) && at <= now.Steady)
        {
            _steady.Remove((at, id));
            _at.Remove(id);
            due.Add(id);
        }

        return due;
    }
}
