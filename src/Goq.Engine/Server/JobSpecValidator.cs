namespace Goq.Server;

/// <summary>Checks submitted specs before any of them is accepted: a batch is taken whole or not at all.</summary>
public static class JobSpecValidator
{
    public const int MaxBatch = 100_000;

    /// <summary>Null when every spec is acceptable, else what is wrong with the first bad one.</summary>
    public static string? Validate(IReadOnlyList<JobSpec>? specs)
    {
        if (specs is null || specs.Count == 0)
        {
            return "no jobs to submit";
        }

        if (specs.Count > MaxBatch)
        {
            return $"a batch of {specs.Count} jobs is larger than {MaxBatch}";
        }

        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            if (spec is null || string.IsNullOrWhiteSpace(spec.Command))
            {
                return $"job {i + 1} of the batch has an empty command";
            }

            if (!Enum.IsDefined(spec.Kind))
            {
                return $"job {i + 1} of the batch has an unknown kind";
            }

            if (spec.ArgumentList is null || spec.ArgumentList.Any(a => a is null))
            {
                return $"job {i + 1} of the batch has a null argument";
            }

            if (spec.TimeoutSec is < 1)
            {
                return $"job {i + 1} of the batch has a timeout of {spec.TimeoutSec} s; it must be at least 1";
            }

            if (spec.MaxAttempts is < 1 or > 100)
            {
                return $"job {i + 1} of the batch allows {spec.MaxAttempts} attempts; it must be 1 to 100";
            }
        }

        return null;
    }
}
