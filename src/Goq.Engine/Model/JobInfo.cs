using System.Text.Json.Serialization;

namespace Goq;

/// <summary>
/// A job as the server records it: what <c>Get-GoqJob</c> returns. The server owns and mutates these on its
/// scheduler thread only; every other copy is a deserialized snapshot.
/// </summary>
public sealed class JobInfo
{
    public long Id { get; set; }

    public string? Name { get; set; }

    public JobState State { get; set; }

    public JobKind Kind { get; set; }

    public string Command { get; set; } = "";

    /// <summary>An array (not a list), so Export-Csv and friends see plain strings.</summary>
    public string[] ArgumentList { get; set; } = [];

    public string WorkingDirectory { get; set; } = "";

    public int? ExitCode { get; set; }

    /// <summary>Why a job failed or was cancelled when the exit code alone does not say it.</summary>
    public string? Reason { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? WorkerHost { get; set; }

    public string? WorkerId { get; set; }

    public int? Pid { get; set; }

    /// <summary>How many times the job has been handed to a worker (the current lease number).</summary>
    public int Attempts { get; set; }

    public string? OutputPath { get; set; }

    /// <summary>A user's hold is on (<c>-Hold</c>, <c>Suspend-GoqJob</c>): it does not start until <c>Resume-GoqJob</c>.</summary>
    public bool Hold { get; set; }

    /// <summary>It does not start before this time.</summary>
    public DateTimeOffset? NotBefore { get; set; }

    /// <summary>Higher runs first; first come, first served within a priority (Set-GoqJob -Priority changes a waiting job's).</summary>
    public int Priority { get; set; }

    /// <summary>The jobs this one waits for (<c>-DependsOn</c>), and what they must do (<see cref="DependencyMode"/>).</summary>
    public long[] DependsOn { get; set; } = [];

    public DependencyMode DependencyMode { get; set; }

    public string SubmittedBy { get; set; } = "";

    /// <summary>Whose job it is, as the server knows it from the submitter's key (see <see cref="JobSpec.Owner"/>).</summary>
    public string Owner { get; set; } = "";

    /// <summary>The queue it waits in; only workers serving it run it.</summary>
    public string Queue { get; set; } = JobSpec.DefaultQueue;

    /// <summary>Slots of one worker it takes while it runs.</summary>
    public int SlotCount { get; set; } = 1;

    /// <summary>Labels its worker must have.</summary>
    public string[] Require { get; set; } = [];

    /// <summary>For a task of an array job: the array's id (Get-GoqJob -Id on it lists its tasks).</summary>
    public long? ArrayJobId { get; set; }

    /// <summary>For a task of an array job: its index (<c>GOQ_ARRAY_ID</c>).</summary>
    public int? ArrayIndex { get; set; }

    /// <summary>For an array job itself (what Submit-GoqJob -ArrayIndex returns): how many tasks it has.</summary>
    public int? TaskCount { get; set; }

    /// <summary>How many times it was run again after failing (<c>-RetryCount</c>), in this run of it (Restart-GoqJob starts again at 0).</summary>
    public int Retries { get; set; }

    /// <summary>The hand-offs before its current run began (retries and restarts): -MaxAttempts counts only this run's.</summary>
    public int AttemptsBeforeRun { get; set; }

    /// <summary>Its earlier runs, oldest first (see <see cref="JobAttempt"/>); the current one is the job itself.</summary>
    public JobAttempt[] History { get; set; } = [];

    /// <summary>CPU time in user mode of its processes (from the child's rusage), once it ended; null where not measured.</summary>
    public TimeSpan? UserCpuTime { get; set; }

    /// <summary>CPU time in the kernel on its behalf.</summary>
    public TimeSpan? SystemCpuTime { get; set; }

    /// <summary>Peak resident memory of its largest process, in bytes.</summary>
    public long? MaxMemoryBytes { get; set; }

    /// <summary>
    /// Its owner dismissed it from PowerShell's job list (Remove-Job): Get-Job no longer lists it in any session, but its
    /// record and output stay (Get-GoqJob, Receive-GoqJob) until Remove-GoqJob. A restart clears it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Dismissed { get; set; }

    /// <summary>User and system CPU time together.</summary>
    [JsonIgnore]
    public TimeSpan? CpuTime => JobAttempt.CpuOf(UserCpuTime, SystemCpuTime);

    /// <summary>Host and short worker id, e.g. <c>node7/3f2a9c1e</c>.</summary>
    [JsonIgnore]
    public string? Worker => WorkerId is null ? null : $"{WorkerHost}/{WorkerId[..Math.Min(8, WorkerId.Length)]}";

    /// <summary>Run time so far, or in all once finished.</summary>
    [JsonIgnore]
    public TimeSpan? Duration => StartedAt is null ? null : (FinishedAt ?? DateTimeOffset.UtcNow) - StartedAt.Value;

    /// <summary>
    /// For a page of Get-GoqJob only: the job as the store holds it (JSON), when the server read just its id and state
    /// and sends the rest on as stored (see StoredJobsConverter). Never set on a record anybody changes.
    /// </summary>
    [JsonIgnore]
    internal byte[]? StoredJson { get; init; }

    public override string ToString() => $"Goq job {Id} ({State})";

    /// <summary>A detached copy, so a snapshot can leave the scheduler thread.</summary>
    public JobInfo Clone() => (JobInfo)MemberwiseClone();
}
