namespace Goq.Protocol;

/// <summary>Client → server: forget these ended jobs (by id and/or state). Replied to with <see cref="RemoveJobsReply"/>.</summary>
public sealed record RemoveJobs(IReadOnlyList<long>? Ids, IReadOnlyList<JobState>? States) : ClientRequest;
