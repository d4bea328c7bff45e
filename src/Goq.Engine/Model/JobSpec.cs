namespace Goq;

/// <summary>What a submitter asks to run. Immutable once submitted.</summary>
public sealed record JobSpec
{
    public string? Name { get; init; }

    public JobKind Kind { get; init; }

    /// <summary>The command line (Shell), the program (Exec), the script path (Script) or the script block's text (ScriptBlock).</summary>
    public string Command { get; init; } = "";

    /// <summary>Exact arguments for Exec and Script jobs; empty for Shell jobs.</summary>
    public IReadOnlyList<string> ArgumentList { get; init; } = [];

    /// <summary>Absolute directory on the submitter's host; the job runs there.</summary>
    public string WorkingDirectory { get; init; } = "";

    /// <summary>The submitter's captured environment (already filtered), shared by a whole batch.</summary>
    public IReadOnlyDictionary<string, string>? CapturedEnvironment { get; init; }

    /// <summary>Variables the submitter set explicitly; they win over the protected names.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Seconds the job may run before its process tree is killed and it fails; null for no limit.</summary>
    public int? TimeoutSec { get; init; }

    /// <summary>How many times the job may be handed to a worker (re-queued after losing one) before it fails.</summary>
    public int MaxAttempts { get; init; } = DefaultMaxAttempts;

    public const int DefaultMaxAttempts = 3;

    /// <summary>How many times a job that fails (non-zero exit, time-out, could not start) is run again.</summary>
    public int RetryCount { get; init; }

    /// <summary>Seconds to wait before each retry.</summary>
    public int RetryDelaySec { get; init; }

    public const int MaxRetryCount = 1000;

    /// <summary>
    /// For ScriptBlock jobs: the script block's arguments, pipeline input and <c>$using:</c> values, serialized by the
    /// submitter (CliXml). The engine carries it as it is and never reads it; only the runner does.
    /// </summary>
    public string? ScriptData { get; init; }

    /// <summary>For ScriptBlock jobs: how deep the objects the job outputs are serialized; null for the default (2).</summary>
    public int? SerializationDepth { get; init; }

    public const int DefaultSerializationDepth = 2;

    /// <summary>Jobs that must end (see <see cref="DependencyMode"/>) before this one may run; each must exist when it is submitted.</summary>
    public IReadOnlyList<long> DependsOn { get; init; } = [];

    public DependencyMode DependencyMode { get; init; }

    /// <summary>At most this many jobs in one job's <see cref="DependsOn"/>.</summary>
    public const int MaxDependencies = 10_000;

    /// <summary>Queue the job Held: it runs only once Resume-GoqJob releases it.</summary>
    public bool Hold { get; init; }

    /// <summary>The job does not start before this time (Slurm's --begin).</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>Higher runs first; first come, first served within a priority.</summary>
    public int Priority { get; init; }

    /// <summary>The queue it waits in (<c>-Queue</c>); only workers serving that queue run it.</summary>
    public string Queue { get; init; } = DefaultQueue;

    public const string DefaultQueue = "default";

    /// <summary>How many slots of one worker it takes while it runs (a 4-core job on a 16-slot worker).</summary>
    public int SlotCount { get; init; } = 1;

    /// <summary>Labels a worker must have every one of to run it (<c>-Require gpu</c>).</summary>
    public IReadOnlyList<string> Require { get; init; } = [];

    /// <summary>
    /// An array job (<c>-ArrayIndex</c>): one task per index, each a job of its own with this spec. Kept once, with the
    /// array; a task's own spec carries <see cref="ArrayTask"/> instead.
    /// </summary>
    public IReadOnlyList<int>? ArrayIndex { get; init; }

    /// <summary>At most this many of an array's tasks run at once (0: no cap).</summary>
    public int ThrottleLimit { get; init; }

    /// <summary>Which task of which array this job is (set by the server on a task's spec).</summary>
    public ArrayTask? ArrayTask { get; init; }

    /// <summary>At most this many tasks in one array.</summary>
    public const int MaxArrayTasks = 1_000_000;

    /// <summary>user@host of the submitter as the client says it; in a multi-user cluster the server sets it to <see cref="Owner"/>.</summary>
    public string SubmittedBy { get; init; } = "";

    /// <summary>
    /// Whose job it is, set by the server from the key that signed the submit (a user of a multi-user cluster), never
    /// from what the client says; for the cluster secret's holder, the account the client names. A worker started by
    /// root runs the job as this user.
    /// </summary>
    public string Owner { get; init; } = "";

    /// <summary>
    /// Set by the server of a multi-user cluster: the job runs as <see cref="Owner"/> or not at all (a root worker drops
    /// to the owner; any other worker runs it only when it runs as the owner itself).
    /// </summary>
    public bool RunAsOwner { get; init; }
}
