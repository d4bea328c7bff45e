namespace Goq.Protocol;

/// <summary>
/// Client → server: queue these jobs, in order. Replied to with <see cref="SubmitJobsReply"/>. A batch from one
/// submitter shares one captured environment: it travels once, in <paramref name="SharedEnvironment"/>, not per job.
/// </summary>
public sealed record SubmitJobs(IReadOnlyList<JobSpec> Jobs, IReadOnlyDictionary<string, string>? SharedEnvironment = null) : GoqMessage;
