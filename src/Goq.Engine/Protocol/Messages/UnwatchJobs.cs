namespace Goq.Protocol;

/// <summary>Client → server: forget the watch registered under request id <paramref name="WatchRid"/>.</summary>
public sealed record UnwatchJobs(long WatchRid) : ClientRequest;
