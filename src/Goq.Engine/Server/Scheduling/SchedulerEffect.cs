using Goq.Protocol;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>A message the scheduler wants sent once its state changes are committed.</summary>
/// <param name="To">The connection to send to.</param>
/// <param name="Rid">The request id to carry (a watch's id for notices; 0 for one-way messages).</param>
/// <param name="Message">What to send.</param>
public sealed record SchedulerEffect(PeerId To, long Rid, GoqMessage Message);

/// <summary>
/// The one way out of the scheduler for what it wants done or known (see <see cref="Scheduler"/>): every message, and
/// every run started and job ended (what the metrics' histograms observe), leaves through here, carrying copies, never
/// the scheduler's live records. (Its changes to the store go to the store's staging, as copies too.) The server's
/// implementation sends the messages after the turn's commit; tests read them (<see cref="SchedulerOutbox"/> is both).
/// </summary>
public interface ISchedulerPort
{
    void Send(PeerId to, long rid, GoqMessage message);

    /// <summary>A run of the job started (counted once a run, by its first report): a copy of its record.</summary>
    void RunStarted(JobInfo job);

    /// <summary>The job ended: a copy of its record.</summary>
    void JobEnded(JobInfo job);
}

/// <summary>A port that keeps what it is given, in order, until it is taken: the server's outbox and the tests' recorder.</summary>
public sealed class SchedulerOutbox : ISchedulerPort
{
    private readonly List<SchedulerEffect> _effects = [];

    public void Send(PeerId to, long rid, GoqMessage message) => _effects.Add(new SchedulerEffect(to, rid, message));

    /// <summary>Told of each run that starts, at once (the server's metrics).</summary>
    public Action<JobInfo>? OnRunStarted { get; set; }

    /// <summary>Told of each job that ends, at once (the server's metrics).</summary>
    public Action<JobInfo>? OnJobEnded { get; set; }

    public void RunStarted(JobInfo job) => OnRunStarted?.Invoke(job);

    public void JobEnded(JobInfo job) => OnJobEnded?.Invoke(job);

    /// <summary>What was given and not taken yet.</summary>
    public IReadOnlyList<SchedulerEffect> Pending => _effects;

    /// <summary>Returns and forgets what was given since the last call.</summary>
    public IReadOnlyList<SchedulerEffect> Take()
    {
        var effects = _effects.ToArray();
        _effects.Clear();
        return effects;
    }
}
