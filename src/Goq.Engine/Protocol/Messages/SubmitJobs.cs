namespace Goq.Protocol;

/// <summary>
/// Client → server: queue these jobs, in order. Replied to with <see cref="SubmitJobsReply"/>. A batch from one
/// submitter shares one captured environment: it travels once, in <paramref name="SharedEnvironment"/>, not per job.
/// <paramref name="BatchId"/>, chosen by the client, makes the submit idempotent: the server keeps it with the jobs and
/// answers the same batch sent again with the jobs it made the first time.
/// </summary>
public sealed record SubmitJobs(IReadOnlyList<JobSpec> Jobs, IReadOnlyDictionary<string, string>? SharedEnvironment = null, string? BatchId = null) : ClientRequest;
