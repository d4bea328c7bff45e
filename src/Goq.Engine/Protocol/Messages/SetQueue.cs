namespace Goq.Protocol;

/// <summary>
/// Client → server: caps how many jobs of a queue run at once cluster-wide (0: no cap). The cap is kept in the store
/// and holds across restarts. Replied to with <see cref="QueuesReply"/> holding the queue.
/// </summary>
public sealed record SetQueue(string Name, int ThrottleLimit) : ClientRequest;
