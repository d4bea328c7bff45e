namespace Goq.Protocol;

/// <summary>Server → client: the jobs found, ordered by id, and the requested ids that are not known.</summary>
public sealed record JobsReply(IReadOnlyList<JobInfo> Jobs, IReadOnlyList<long> Unknown) : GoqMessage;
