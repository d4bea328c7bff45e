namespace Goq.Protocol;

/// <summary>Client → server: queue these jobs, in order. Replied to with <see cref="SubmitJobsReply"/>.</summary>
public sealed record SubmitJobs(IReadOnlyList<JobSpec> Jobs) : GoqMessage;
