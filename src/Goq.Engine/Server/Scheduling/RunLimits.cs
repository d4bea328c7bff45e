namespace Goq.Server.Scheduling;

/// <summary>
/// Caps on how many jobs of a kind run at once cluster-wide (a queue's ThrottleLimit, pueue's group parallelism).
/// Keeps the count of running jobs under each key, so asking whether a key is full costs O(1). A job counts from its
/// dispatch until it ends or goes back to waiting. Owned by the scheduler thread.
/// </summary>
internal sealed class RunLimits
{
    private readonly Dictionary<string, int> _limits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string[]> _counted = new();

    public static string QueueKey(string queue) => "queue:" + queue;

    public static string ArrayKey(long arrayId) => "array:" + arrayId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The cap on <paramref name="key"/>, 0 for none.</summary>
    public int Limit(string key) => _limits.GetValueOrDefault(key);

    public void SetLimit(string key, int limit)
    {
        if (limit > 0)
        {
            _limits[key] = limit;
        }
        else
        {
            _limits.Remove(key);
        }
    }

    public int Running(string key) => _running.GetValueOrDefault(key);

    /// <summary>The first of <paramref name="keys"/> at its cap, or null when a job under them may start.</summary>
    public string? Full(string[] keys)
    {
        foreach (var key in keys)
        {
            if (_limits.TryGetValue(key, out var limit) && _running.GetValueOrDefault(key) >= limit)
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>The job runs under <paramref name="keys"/> (once; counting it again changes nothing).</summary>
    public void Enter(long jobId, string[] keys)
    {
        if (!_counted.TryAdd(jobId, keys))
        {
            return;
        }

        foreach (var key in keys)
        {
            _running[key] = _running.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>The job no longer runs (ended, or back to waiting); a job not counted changes nothing.</summary>
    public void Leave(long jobId)
    {
        if (!_counted.Remove(jobId, out var keys))
        {
            return;
        }

        foreach (var key in keys)
        {
            if (--_running[key] <= 0)
            {
                _running.Remove(key);
            }
        }
    }
}
