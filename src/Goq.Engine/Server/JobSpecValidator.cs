using Goq.Errors;
using Goq.Protocol;

namespace Goq.Server;

/// <summary>Checks submitted specs before any of them is accepted: a batch is taken whole or not at all.</summary>
public static class JobSpecValidator
{
    public const int MaxBatch = 100_000;

    /// <summary>The longest batch id a client may choose (Submit-GoqJob's are 32 hex digits).</summary>
    public const int MaxBatchIdLength = 128;

    /// <summary>
    /// Null when a submit's batch id is acceptable (none, or up to <see cref="MaxBatchIdLength"/> letters, digits and
    /// '-', '_', '.', ':'), else the error. Checkpoint (hostile input): the id is stored as it is, and a NUL or a lone
    /// surrogate, which a PostgreSQL text column refuses, would fail every commit of every server it was sent to.
    /// </summary>
    public static (string ErrorId, string Message)? ValidateBatchId(string? batchId) =>
        batchId is null || (batchId.Length <= MaxBatchIdLength && batchId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            ? null
            : (GoqErrorIds.InvalidJobSpec, $"a batch id is at most {MaxBatchIdLength} letters, digits and '-', '_', '.', ':'");

    /// <summary>
    /// Null when every spec is acceptable, else the error id and what is wrong with the first bad one. With
    /// <paramref name="checkSizes"/> (a message larger than one job may be) each job's size is measured too, so no job
    /// too large to be dispatched in one message is ever accepted.
    /// </summary>
    public static (string ErrorId, string Message)? Validate(IReadOnlyList<JobSpec>? specs, IReadOnlyDictionary<string, string>? shared = null, bool checkSizes = false)
    {
        if (specs is null || specs.Count == 0)
        {
            return Invalid("no jobs to submit");
        }

        if (specs.Count > MaxBatch)
        {
            return Invalid($"a batch of {specs.Count} jobs is larger than {MaxBatch}");
        }

        var sharedBytes = checkSizes ? JobSizes.Exact(shared) : 0;
        var sharedExec = ExecLimits.Measure(shared);
        for (var i = 0; i < specs.Count; i++)
        {
            if (Check(specs[i]) is { } problem)
            {
                return Invalid($"job {i + 1} of the batch {problem}");
            }

            if (checkSizes && JobSizes.Exact(specs[i]) + sharedBytes is var bytes && bytes > FrameCodec.MaxJobBytes)
            {
                return (GoqErrorIds.MessageTooLarge, $"job {i + 1} of the batch takes {bytes:N0} bytes with its environment; a job may take at most {FrameCodec.MaxJobBytes:N0}");
            }

            if (ExecLimits.Problem(specs[i], sharedExec) is { } tooLong)
            {
                return (GoqErrorIds.ArgumentListTooLong, $"job {i + 1} of the batch cannot start: {tooLong}");
            }
        }

        return null;
    }

    private static (string, string) Invalid(string message) => (GoqErrorIds.InvalidJobSpec, message);

    private static string? Check(JobSpec? spec)
    {
        if (spec is null || string.IsNullOrWhiteSpace(spec.Command))
        {
            return "has an empty command";
        }

        if (!Enum.IsDefined(spec.Kind))
        {
            return "has an unknown kind";
        }

        if (spec.ArgumentList is null || spec.ArgumentList.Any(a => a is null))
        {
            return "has a null argument";
        }

        // A NUL would be cut at the exec boundary, silently running something other than what was asked.
        if (spec.Command.Contains('\0') || spec.ArgumentList.Any(a => a.Contains('\0')) || (spec.WorkingDirectory?.Contains('\0') ?? false))
        {
            return "has a NUL character in its command, arguments or working directory";
        }

        foreach (var environment in new[] { spec.CapturedEnvironment, spec.Environment })
        {
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            {
                if (JobEnvironment.Problem(name, value) is { } problem)
                {
                    return $"has an invalid environment: {problem}";
                }
            }
        }

        if (spec.TimeoutSec is < 1)
        {
            return $"has a timeout of {spec.TimeoutSec} s; it must be at least 1";
        }

        if (spec.DependsOn is null || spec.DependsOn.Count > JobSpec.MaxDependencies || spec.DependsOn.Any(id => id < 1))
        {
            return $"has an invalid list of dependencies (job ids from 1, at most {JobSpec.MaxDependencies:N0})";
        }

        if (!Enum.IsDefined(spec.DependencyMode))
        {
            return "has an unknown dependency mode";
        }

        if (!NameRules.IsValid(spec.Queue))
        {
            return $"has an invalid queue name '{spec.Queue}': use 1 to {NameRules.MaxLength} letters, digits, '-', '_' or '.'";
        }

        if (spec.SlotCount is < 1 or > WorkerHelloValidator.MaxSlots)
        {
            return $"asks for {spec.SlotCount} slots; 1 to {WorkerHelloValidator.MaxSlots} are allowed";
        }

        if (NameRules.Problem(spec.Require, "required label") is { } labels)
        {
            return labels;
        }

        if (spec.RetryCount is < 0 or > JobSpec.MaxRetryCount || spec.RetryDelaySec is < 0 or > 7 * 86400)
        {
            return $"asks for {spec.RetryCount} retries {spec.RetryDelaySec} s apart; 0 to {JobSpec.MaxRetryCount} retries, at most a week apart, are allowed";
        }

        if (spec.ArrayIndex is { } indices)
        {
            if (indices.Count is 0 or > JobSpec.MaxArrayTasks || indices.Any(i => i < 0) || indices.Distinct().Count() != indices.Count)
            {
                return $"has an invalid array: 1 to {JobSpec.MaxArrayTasks:N0} distinct indices from 0";
            }
        }

        if (spec.ThrottleLimit < 0 || (spec.ThrottleLimit > 0 && spec.ArrayIndex is null))
        {
            return "has a throttle limit without an array (use -ArrayIndex), or a negative one";
        }

        if (spec.ArrayTask is not null)
        {
            return "names an array task itself; the server makes those";
        }

        if (spec.MaxAttempts is < 1 or > 100)
        {
            return $"allows {spec.MaxAttempts} attempts; it must be 1 to 100";
        }

        return null;
    }
}
