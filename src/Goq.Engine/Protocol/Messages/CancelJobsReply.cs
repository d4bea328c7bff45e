namespace Goq.Protocol;

/// <summary>
/// Server → client: the jobs now cancelled (a running one's process tree is being killed), those that had already
/// ended (left as they were) and the unknown ids.
/// </summary>
public sealed record CancelJobsReply(IReadOnlyList<JobInfo> Cancelled, IReadOnlyList<JobInfo> AlreadyEnded, IReadOnlyList<long> Unknown) : GoqMessage;
