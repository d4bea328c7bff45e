using Goq.Protocol;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>A message the scheduler wants sent once its state changes are committed.</summary>
/// <param name="To">The connection to send to.</param>
/// <param name="Rid">The request id to carry (a watch's id for notices; 0 for one-way messages).</param>
/// <param name="Message">What to send.</param>
public sealed record SchedulerEffect(PeerId To, long Rid, GoqMessage Message);
