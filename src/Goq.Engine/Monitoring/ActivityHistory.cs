namespace Goq.Monitoring;

/// <summary>
/// The last hour of the server's activity for the dashboard's chart: every <see cref="Step"/> the jobs ended so far,
/// waiting and running, taken from the published snapshot. Thread-safe: sampled by a timer, read by requests.
/// </summary>
public sealed class ActivityHistory
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(5);
    private const int Capacity = 720; // an hour of steps

    private readonly Queue<Sample> _samples = new();
    private readonly Lock _lock = new();

    public readonly record struct Sample(DateTimeOffset At, long Ended, long Waiting, long Running);

    public void Add(MetricsSnapshot snapshot)
    {
        if (snapshot.At == default)
        {
            return; // nothing published yet
        }

        var sample = Of(snapshot);
        lock (_lock)
        {
            if (_samples.Count == Capacity)
            {
                _samples.Dequeue();
            }

            _samples.Enqueue(sample);
        }
    }

    /// <summary>The samples, oldest first, with <paramref name="now"/> as the last point.</summary>
    public IReadOnlyList<Sample> Read(MetricsSnapshot now)
    {
        lock (_lock)
        {
            return now.At == default ? [.. _samples] : [.. _samples, Of(now)];
        }
    }

    private static Sample Of(MetricsSnapshot snapshot) =>
        new(snapshot.At, snapshot.Finished.Values.Sum(), snapshot.Count(JobState.Waiting), snapshot.Count(JobState.Running));
}
