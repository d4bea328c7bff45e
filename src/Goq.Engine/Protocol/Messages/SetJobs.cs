namespace Goq.Protocol;

/// <summary>Client → server: change what may still change of jobs that have not started (their priority). Replied to with <see cref="SetJobsReply"/>.</summary>
public sealed record SetJobs(IReadOnlyList<long> Ids, int? Priority) : GoqMessage;
