namespace Goq;

/// <summary>
/// Where a job's output starts in its file and which of its lines came from stderr, kept with the job so
/// <c>Receive-GoqJob</c> can tell the streams apart after a server restart.
/// </summary>
/// <param name="StartOffset">Byte offset of the job's first line (goq appends to an existing file).</param>
/// <param name="Lines">How many lines the job wrote.</param>
/// <param name="StderrRuns">Alternating run lengths, starting with stdout: [stdout, stderr, stdout, ...].</param>
public sealed record OutputIndex(long StartOffset, long Lines, IReadOnlyList<long> StderrRuns);
