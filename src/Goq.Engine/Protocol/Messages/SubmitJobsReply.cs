namespace Goq.Protocol;

/// <summary>Server → client: the jobs as recorded, in the order submitted; sent only once they are stored.</summary>
public sealed record SubmitJobsReply(IReadOnlyList<JobInfo> Jobs) : GoqMessage;
