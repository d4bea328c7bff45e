using System.Text.Json.Serialization;

namespace Goq;

/// <summary>
/// One run of a job on a worker: what <c>Get-GoqJob -IncludeAttempts</c> lists. A job that is retried
/// (<c>-RetryCount</c>), restarted (<c>Restart-GoqJob</c>) or whose worker was lost keeps every earlier run here; its
/// output stays in the job's output file, each run's after the one before.
/// </summary>
public sealed class JobAttempt
{
    public long JobId { get; set; }

    /// <summary>The lease number: 1 for the first hand-off to a worker, counting on across retries and restarts.</summary>
    public int Attempt { get; set; }

    public JobState State { get; set; }

    public int? ExitCode { get; set; }

    public string? Reason { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? WorkerHost { get; set; }

    public string? WorkerId { get; set; }

    public int? Pid { get; set; }

    /// <summary>CPU time in user mode of the job's processes (from the child's rusage); null where not measured.</summary>
    public TimeSpan? UserCpuTime { get; set; }

    /// <summary>CPU time in the kernel on the job's behalf.</summary>
    public TimeSpan? SystemCpuTime { get; set; }

    /// <summary>Peak resident memory of the job's largest process, in bytes.</summary>
    public long? MaxMemoryBytes { get; set; }

    [JsonIgnore]
    public TimeSpan? CpuTime => CpuOf(UserCpuTime, SystemCpuTime);

    /// <summary>User and system time together; null when neither was measured.</summary>
    internal static TimeSpan? CpuOf(TimeSpan? user, TimeSpan? system) =>
        user is null && system is null ? null : (user ?? TimeSpan.Zero) + (system ?? TimeSpan.Zero);

    [JsonIgnore]
    public TimeSpan? Duration => StartedAt is null || FinishedAt is null ? null : FinishedAt.Value - StartedAt.Value;

    [JsonIgnore]
    public string? Worker => WorkerId is null ? null : $"{WorkerHost}/{WorkerId[..Math.Min(8, WorkerId.Length)]}";

    public override string ToString() => $"Goq job {JobId} attempt {Attempt} ({State})";

    /// <summary>The run a job's record describes now.</summary>
    public static JobAttempt Of(JobInfo job) => new()
    {
        JobId = job.Id,
        Attempt = job.Attempts,
        State = job.State,
        ExitCode = job.ExitCode,
        Reason = job.Reason,
        StartedAt = job.StartedAt,
        FinishedAt = job.FinishedAt,
        WorkerHost = job.WorkerHost,
        WorkerId = job.WorkerId,
        Pid = job.Pid,
        UserCpuTime = job.UserCpuTime,
        SystemCpuTime = job.SystemCpuTime,
        MaxMemoryBytes = job.MaxMemoryBytes,
    };
}
