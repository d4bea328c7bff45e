namespace Goq.Protocol;

/// <summary>
/// Client → server: counters and queue lengths, and with <paramref name="CountStates"/> how many jobs are in each state
/// (ended ones counted in the store: not free with a long history, so only when asked). Replied to with
/// <see cref="ServerStatusReply"/>. <paramref name="Detailed"/> adds what an operator looks up: uptime, the store's
/// size, where the server logs.
/// </summary>
public sealed record GetServerStatus(bool CountStates = false, bool Detailed = false, bool All = false) : ClientRequest;
