namespace Goq.Protocol;

/// <summary>
/// Client → server: jobs by id and/or state (null means any), one page at a time: those with an id above
/// <paramref name="AfterId"/>, at most <paramref name="Limit"/> (0: the server's page size). Replied to with
/// <see cref="JobsReply"/>. <paramref name="Filter"/> narrows them further (time window, submitter, queue).
/// </summary>
public sealed record GetJobs(IReadOnlyList<long>? Ids, IReadOnlyList<JobState>? States, long AfterId = 0, int Limit = 0, JobFilter? Filter = null) : ClientRequest;
