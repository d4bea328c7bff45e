namespace Goq;

/// <summary>Why a Goq job failed, as the JobStateInfo.Reason of its GoqJob (Receive-Job writes it as JobStateFailed).</summary>
public sealed class GoqJobFailedException(JobInfo job)
    : Exception(job.Reason ?? (job.ExitCode is { } code ? $"exit code {code}" : "the job failed"))
{
    public long JobId { get; } = job.Id;

    public int? ExitCode { get; } = job.ExitCode;
}
