namespace Goq;

/// <summary>
/// Where a job's output starts in its file and which of its lines came from stderr, kept with the job so
/// <c>Receive-GoqJob</c> can tell the streams apart after a server restart.
/// </summary>
/// <param name="StartOffset">Byte offset of the job's first line (goq appends to an existing file).</param>
/// <param name="Lines">How many lines the job wrote.</param>
/// <param name="StderrRuns">Alternating run lengths, starting with stdout: [stdout, stderr, stdout, ...].</param>
/// <param name="Bytes">The job's bytes in the file; after a crash, anything past them was never recorded and is cut.</param>
/// <param name="Attempt">The attempt whose lines were written last.</param>
/// <param name="AttemptLines">How many lines that attempt has written (text and records together).</param>
/// <param name="Records">A script-block job's records file (<c>out.NNNNN.records</c>, beside the text file), indexed the same way.</param>
/// <param name="Path">The file: planned when the job was dispatched, so it is known before the job's first line.</param>
/// <param name="WorkerWrites">The attempt whose worker writes the file itself (on the server's host), committed with its
/// dispatch: the file's tail past <paramref name="Bytes"/> is then that worker's to report, not cut at a restart.</param>
/// <param name="Breaks">Where lines end without a newline, counted from <paramref name="StartOffset"/>: the file holds
/// the job's bytes and nothing else, so a line that a stream or an attempt left open ends here (see <see cref="Output.LineCuts"/>).</param>
public sealed record OutputIndex(long StartOffset, long Lines, IReadOnlyList<long> StderrRuns, long Bytes = 0, int Attempt = 0, long AttemptLines = 0,
    OutputIndex? Records = null, string? Path = null, int? WorkerWrites = null, IReadOnlyList<long>? Breaks = null);
