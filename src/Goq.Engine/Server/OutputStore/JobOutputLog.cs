namespace Goq.Server.OutputStore;

/// <summary>
/// One job's output file as the server writes it, plus which lines came from stderr (as runs of one stream).
/// Owned by the scheduler thread.
/// </summary>
internal sealed class JobOutputLog(string path, long startOffset)
{
    /// <summary>Byte offset of every <see cref="CheckpointEvery"/>th line, so a page can start without a scan.</summary>
    public const int CheckpointEvery = 1024;

    public string Path { get; } = path;

    /// <summary>The job's owner, whose rights every open of this file is made with (a multi-user cluster's server run as root); null: the server's own.</summary>
    public Platform.UserAccount? Owner { get; set; }

    /// <summary>Where this job's lines start (goq appends to an existing file).</summary>
    public long StartOffset { get; } = startOffset;

    public long LineCount { get; set; }

    public long ByteCount { get; set; }

    public List<(OutputStream Stream, long Count)> Runs { get; } = [];

    public List<long> Checkpoints { get; } = [];

    /// <summary>Where lines end without a newline, counted from <see cref="StartOffset"/> (see <see cref="Output.LineCuts"/>), sorted.</summary>
    public List<long> Breaks { get; } = [];

    /// <summary>For the readers: the breaks as offsets in the file.</summary>
    public Output.LineBreaks LineBreaks => new(Breaks, StartOffset);

    /// <summary>A line ends at byte <paramref name="at"/> (from <see cref="StartOffset"/>) without a newline; a break known already is not added twice.</summary>
    public void AddBreak(long at)
    {
        if (at > 0 && (Breaks.Count == 0 || Breaks[^1] < at))
        {
            Breaks.Add(at);
        }
    }

    /// <summary>Whether the recorded output ends at a break.</summary>
    public bool EndsAtBreak => Breaks.Count > 0 && Breaks[^1] == ByteCount;

    public FileStream? Writer { get; set; }

    /// <summary>Placed when its job was dispatched, and not written yet: its file may not exist.</summary>
    public bool Planned { get; set; }

    /// <summary>The attempt whose lines were written last, and how many it has written.</summary>
    public int Attempt { get; set; }

    /// <summary>Counts text and record lines together: it numbers the lines a worker sends, which mix both.</summary>
    public long AttemptLines { get; set; }

    /// <summary>A script-block job's records file, written beside this one (its own attempt fields are unused).</summary>
    public JobOutputLog? Records { get; set; }

    public static string RecordsPath(string textPath) => textPath + ".records";

    public void AddLine(OutputStream stream, int bytes)
    {
        // Checkpoint i is line i * CheckpointEvery: once lines came without offsets (written by a worker), none is added.
        if (LineCount % CheckpointEvery == 0 && Checkpoints.Count == LineCount / CheckpointEvery)
        {
            Checkpoints.Add(ByteCount);
        }

        Output.StreamRuns.Add(Runs, stream, 1);
        LineCount++;
        ByteCount += bytes;
    }

    /// <summary>Lines a worker wrote to the file itself: counted, without checkpoints (a reader scans from the last one).</summary>
    public void AddLines(OutputStream stream, long count)
    {
        Output.StreamRuns.Add(Runs, stream, count);
        LineCount += count;
    }

    /// <summary>Where the worker of attempt <see cref="TargetAttempt"/> was told to write (see OutputFiles.Target).</summary>
    public Protocol.OutputTarget? Target { get; set; }

    public int TargetAttempt { get; set; }

    /// <summary>Whether a worker wrote lines of this file itself (the server's writer, if any, must reopen at the end).</summary>
    public bool WrittenByWorker { get; set; }

    /// <summary>What is kept with the job once its output is complete.</summary>
    public OutputIndex ToIndex()
    {
        var runs = Output.StreamRuns.ToAlternating(Runs);
        return new OutputIndex(StartOffset, LineCount, runs, ByteCount, Attempt, AttemptLines, Records?.ToIndex(), Path, WrittenByWorker ? TargetAttempt : null,
            Breaks.Count > 0 ? [.. Breaks] : null);
    }

    public static JobOutputLog FromIndex(string path, OutputIndex index)
    {
        var log = new JobOutputLog(path, index.StartOffset)
        {
            LineCount = index.Lines,
            ByteCount = index.Bytes,
            Attempt = index.Attempt,
            AttemptLines = index.AttemptLines,
            WrittenByWorker = index.WorkerWrites is not null,
            TargetAttempt = index.WorkerWrites ?? 0,
        };
        log.Runs.AddRange(Output.StreamRuns.FromAlternating(index.StderrRuns));
        log.Breaks.AddRange((index.Breaks ?? []).Where(b => b > 0 && b <= index.Bytes).Order()); // (a stored index is not trusted to be sorted)
        if (index.Records is { } records)
        {
            log.Records = FromIndex(RecordsPath(path), records);
        }

        return log;
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
