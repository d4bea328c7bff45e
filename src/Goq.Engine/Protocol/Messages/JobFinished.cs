namespace Goq.Protocol;

/// <summary>
/// Worker → server: the job ended. It carries the start too (pid and time), since a job that ends within one output
/// period is never reported as started on its own, and how many output lines the attempt wrote: the server takes the
/// report only once it has all of them. The last of them may travel in <paramref name="Lines"/> (numbered from
/// <paramref name="FromLine"/> within the attempt), so a short job's output and end cost one message and one
/// acknowledgement; the rest was sent before, in <see cref="JobOutput"/> messages. <paramref name="Usage"/> is what its
/// processes used, where the worker could measure it.
/// </summary>
public sealed record JobFinished(string WorkerId, long JobId, int Attempt, JobState State, int? ExitCode, string? Reason, DateTimeOffset? StartedAt,
    DateTimeOffset FinishedAt, int? Pid = null, long? TotalLines = null, [property: System.Text.Json.Serialization.JsonConverter(typeof(OutputLinesConverter))] IReadOnlyList<OutputLine>? Lines = null, long FromLine = 0,
    JobUsage? Usage = null) : WorkerReport;
