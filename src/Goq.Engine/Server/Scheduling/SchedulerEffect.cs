using Goq.Protocol;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>A message the scheduler wants sent once its state changes are committed.</summary>
/// <param name="To">The connection to send to.</param>
/// <param name="Rid">The request id to carry (a watch's id for notices; 0 for one-way messages).</param>
/// <param name="Message">What to send.</param>
public sealed record SchedulerEffect(PeerId To, long Rid, GoqMessage Message);

/// <summary>
/// The one way out of the scheduler for what it wants done (see <see cref="Scheduler"/>): every message leaves through
/// here, carrying copies, never the scheduler's live records. The server's implementation sends them after the turn's
/// commit; tests read them (<see cref="SchedulerOutbox"/> is both).
/// </summary>
public interface ISchedulerPort
{
    void Send(PeerId to, long rid, GoqMessage message);
}

/// <summary>A port that keeps what it is given, in order, until it is taken: the server's outbox and the tests' recorder.</summary>
public sealed class SchedulerOutbox : ISchedulerPort
{
    private readonly List<SchedulerEffect> _effects = [];

    public void Send(PeerId to, long rid, GoqMessage message) => _effects.Add(new SchedulerEffect(to, rid, message));

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
