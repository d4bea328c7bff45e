namespace Goq.Protocol;

/// <summary>
/// Server → client: a page of a job's output, bounded by lines and bytes. <paramref name="NextLine"/> is where the next
/// page starts and <paramref name="NextOffset"/> where that line starts in the job's output (pass it back);
/// <paramref name="Complete"/> is true once the job has ended and every line has been returned. A line longer than
/// the worker's line limit (32 KiB) was stored as consecutive pieces, and comes back as those pieces.
/// <paramref name="Records"/> says the lines are from the job's records file (asked for, and the job has one).
/// </summary>
public sealed record OutputReply(long JobId,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(OutputLinesConverter))] IReadOnlyList<OutputLine> Lines, long NextLine, bool Complete, JobState State, long NextOffset = -1,
    bool Records = false, string? WorkerHost = null) : GoqMessage;
