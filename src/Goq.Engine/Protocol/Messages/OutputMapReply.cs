namespace Goq.Protocol;

/// <summary>
/// Server → client: a job's output file and its recorded part: the job's lines start at <paramref name="StartOffset"/>
/// and take <paramref name="Bytes"/> bytes, <paramref name="Lines"/> lines, with <paramref name="StderrRuns"/>
/// (alternating run lengths from stdout, as in <see cref="OutputIndex"/>). <paramref name="Head"/> and
/// <paramref name="Tail"/> are SHA-256 hashes of the first and last 4 KiB of that part, so a client can tell that the
/// file it sees at <paramref name="Path"/> is this one. <paramref name="Path"/> is null when the output cannot be read
/// this way (no file, or too many runs for one message): then read it page by page (<see cref="ReadOutput"/>).
/// <paramref name="Records"/> says the map is of the job's records file (asked for, and the job has one);
/// <paramref name="WorkerHost"/> is where the job ran; <paramref name="Breaks"/> are where lines end without a newline,
/// counted from <paramref name="StartOffset"/> (see <see cref="Output.LineCuts"/>).
/// </summary>
public sealed record OutputMapReply(long JobId, string? Path, long StartOffset, long Bytes, long Lines, IReadOnlyList<long> StderrRuns,
    string Head, string Tail, bool Complete, JobState State, bool Records = false, string? WorkerHost = null, IReadOnlyList<long>? Breaks = null) : GoqMessage;
