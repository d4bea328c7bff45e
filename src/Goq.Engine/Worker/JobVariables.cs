namespace Goq.Worker;

/// <summary>
/// The variables Goq itself sets for every job (after every GOQ_* of the submitter's and the worker's was removed):
/// which job and attempt it is, and which worker runs it. Scripts may use them; the worker finds a job's processes by
/// them after a crash (see <see cref="JobLedger"/>).
/// </summary>
public static class JobVariables
{
    public const string JobId = "GOQ_JOB_ID";
    public const string Attempt = "GOQ_JOB_ATTEMPT";
    public const string WorkerId = "GOQ_WORKER_ID";

    /// <summary>How many slots the job was given (-SlotCount): how many cores it may use.</summary>
    public const string Slots = "GOQ_JOB_SLOTS";

    /// <summary>An array task's index (<c>-ArrayIndex</c>); script blocks also get it as <c>$GoqArrayId</c>.</summary>
    public const string ArrayId = "GOQ_ARRAY_ID";

    /// <summary>An array task's array id.</summary>
    public const string ArrayJobId = "GOQ_ARRAY_JOB_ID";

    /// <summary>How many tasks the array has.</summary>
    public const string ArrayCount = "GOQ_ARRAY_COUNT";
}
