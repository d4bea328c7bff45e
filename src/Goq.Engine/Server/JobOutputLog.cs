namespace Goq.Server;

/// <summary>
/// One job's output file as the server writes it, plus which lines came from stderr (as runs of one stream).
/// Owned by the scheduler thread.
/// </summary>
internal sealed class JobOutputLog(string path, long startOffset)
{
    /// <summary>Byte offset of every <see cref="CheckpointEvery"/>th line, so a page can start without a scan.</summary>
    public const int CheckpointEvery = 1024;

    public string Path { get; } = path;

    /// <summary>Where this job's lines start (goq appends to an existing file).</summary>
    public long StartOffset { get; } = startOffset;

    public long LineCount { get; set; }

    public long ByteCount { get; set; }

    public List<(OutputStream Stream, long Count)> Runs { get; } = [];

    public List<long> Checkpoints { get; } = [];

    public FileStream? Writer { get; set; }

    public void AddLine(OutputStream stream, int bytes)
    {
        if (LineCount % CheckpointEvery == 0)
        {
            Checkpoints.Add(ByteCount);
        }

        if (Runs.Count > 0 && Runs[^1].Stream == stream)
        {
            Runs[^1] = (stream, Runs[^1].Count + 1);
        }
        else
        {
            Runs.Add((stream, 1));
        }

        LineCount++;
        ByteCount += bytes;
    }

    public OutputStream StreamOf(long line)
    {
        foreach (var (stream, count) in Runs)
        {
            if (line < count)
            {
                return stream;
            }

            line -= count;
        }

        return OutputStream.Stdout;
    }
}
