using Goq.Errors;
using Goq.Protocol;

namespace Goq.Client;

/// <summary>
/// Gathers a submitter's jobs into batches, each sent as one <see cref="SubmitJobs"/> message, so that a long pipeline
/// does not pay one round trip per job. A batch never holds more than <see cref="MaxJobs"/> jobs, nor more than
/// <see cref="MaxBatchBytes"/> by <see cref="JobSizes.UpperBound(JobSpec)"/> (never less than the JSON), with the
/// environment the jobs share counted once, as it travels. It is due once full, or once its first job has waited
/// <see cref="MaxAge"/>, so the jobs of a slow pipeline are not held back. Jobs keep the order they were added in.
/// A job that could never be sent (larger than <see cref="FrameCodec.MaxJobBytes"/> with the shared environment) or
/// never start (what exec refuses on the worker, <see cref="ExecLimits"/>) is refused alone, at once, and the batch is
/// left as it was. Used by one thread (a pipeline's); the caller says when it is (<c>now</c>, on the monotonic clock),
/// so no test waits for a batch to age.
/// </summary>
public sealed class SubmitBatcher
{
    /// <summary>The most jobs a batch holds.</summary>
    public const int MaxJobs = 1000;

    /// <summary>The most bytes a batch's jobs and shared environment take: a message, less room for the envelope.</summary>
    public const long MaxBatchBytes = FrameCodec.MaxMessageBytes - (64 * 1024);

    /// <summary>How long the first job of a batch waits for others before the batch is due.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(200);

    private readonly List<JobSpec> _pending = [];
    private readonly long _sharedBytes;
    private readonly ExecLimits.Shared _sharedExec;
    private readonly long _maxBatchBytes;
    private readonly int _maxJobs;
    private long _pendingBytes;
    private TimeSpan _firstAddedAt;

    /// <param name="sharedEnvironment">The captured environment every job added carries (sent once per batch).</param>
    public SubmitBatcher(IReadOnlyDictionary<string, string>? sharedEnvironment)
        : this(sharedEnvironment, MaxBatchBytes, MaxJobs)
    {
    }

    /// <summary>A batcher with smaller limits, so that a test can fill batches with a few small jobs.</summary>
    internal SubmitBatcher(IReadOnlyDictionary<string, string>? sharedEnvironment, long maxBatchBytes, int maxJobs)
    {
        _maxBatchBytes = maxBatchBytes;
        _maxJobs = maxJobs;
        _sharedBytes = JobSizes.UpperBound(sharedEnvironment);
        if (_sharedBytes > FrameCodec.MaxJobBytes)
        {
            // The bound counts every character as its longest escape: near the limit, the exact size decides.
            _sharedBytes = JobSizes.Exact(sharedEnvironment);
        }

        _sharedExec = ExecLimits.Measure(sharedEnvironment);
    }

    /// <summary>How many jobs wait in the batch being gathered.</summary>
    public int Count => _pending.Count;

    /// <summary>
    /// Adds a job to the batch. Returns the batch gathered before it when the job does not fit beside it (send that one
    /// first; the job starts the next batch), else null. Throws <see cref="GoqException"/> (<see cref="GoqErrorIds.MessageTooLarge"/>
    /// or <see cref="GoqErrorIds.ArgumentListTooLong"/>, InvalidArgument) for a job that can never be sent or start.
    /// </summary>
    public IReadOnlyList<JobSpec>? Add(JobSpec spec, TimeSpan now)
    {
        // Checkpoint (sizes): a job that could never travel in one message is refused here, at once; the others are
        // gathered so that a batch never exceeds a message either.
        var bytes = JobSizes.UpperBound(spec);
        if (bytes + _sharedBytes > FrameCodec.MaxJobBytes)
        {
            bytes = JobSizes.Exact(spec with { CapturedEnvironment = null });
            if (bytes + _sharedBytes > FrameCodec.MaxJobBytes)
            {
                throw Refused(GoqErrorIds.MessageTooLarge, spec,
                    $"the job's command, arguments and environment take {bytes + _sharedBytes:N0} bytes; a job may take at most {FrameCodec.MaxJobBytes:N0} bytes (4 MiB)");
            }
        }

        // Checkpoint: what exec would refuse on the worker (E2BIG) is refused here, for this job alone.
        if (ExecLimits.Problem(spec with { CapturedEnvironment = null }, _sharedExec) is { } tooLong)
        {
            throw Refused(GoqErrorIds.ArgumentListTooLong, spec, $"the job cannot start: {tooLong}");
        }

        var full = _pending.Count > 0 && (_pending.Count >= _maxJobs || _sharedBytes + _pendingBytes + bytes > _maxBatchBytes) ? Take() : null;
        if (_pending.Count == 0)
        {
            _firstAddedAt = now;
        }

        _pending.Add(spec);
        _pendingBytes += bytes;
        return full;
    }

    /// <summary>Whether the batch should be sent now: it is full, or its first job has waited <see cref="MaxAge"/>.</summary>
    public bool IsDue(TimeSpan now) => _pending.Count >= _maxJobs || (_pending.Count > 0 && now - _firstAddedAt > MaxAge);

    /// <summary>Takes the batch gathered so far (empty when there is none); the next job starts a new one.</summary>
    public IReadOnlyList<JobSpec> Take()
    {
        var batch = _pending.ToArray();
        _pending.Clear();
        _pendingBytes = 0;
        return batch;
    }

    // Named by the start of its command: a command of megabytes is of no use as an error's target.
    private static GoqException Refused(string errorId, JobSpec spec, string message) =>
        new(errorId, GoqErrorKind.InvalidArgument, message) { Target = spec.Command.Length > 80 ? spec.Command[..80] + "..." : spec.Command };
}
