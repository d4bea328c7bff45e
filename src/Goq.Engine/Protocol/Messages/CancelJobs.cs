namespace Goq.Protocol;

/// <summary>Client → server: cancel these jobs. Replied to with <see cref="CancelJobsReply"/>.</summary>
public sealed record CancelJobs(IReadOnlyList<long> Ids) : ClientRequest;
