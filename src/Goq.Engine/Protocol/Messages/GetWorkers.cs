namespace Goq.Protocol;

/// <summary>Client → server: the connected workers. Replied to with <see cref="WorkersReply"/>.</summary>
public sealed record GetWorkers : ClientRequest;
