namespace Goq.Protocol;

/// <summary>Client → server: jobs by id and/or state (null means any). Replied to with <see cref="JobsReply"/>.</summary>
public sealed record GetJobs(IReadOnlyList<long>? Ids, IReadOnlyList<JobState>? States) : GoqMessage;
