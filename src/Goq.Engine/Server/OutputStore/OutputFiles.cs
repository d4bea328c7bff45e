using System.Security.Cryptography;
using System.Text;
using Goq.Output;
using Goq.Configuration;
using Goq.Storage;
using Goq.Diagnostics;

namespace Goq.Server.OutputStore;

// Over 400 lines: the server's own writes and the records of worker-written files share one log per job and its
// guarantee points (plan, trim, take-back). The worker-written side (Prepare, Record, TakeBack) is the part to make a
// type of its own next, beside this one in Server/OutputStore.
/// <summary>
/// Writes job output where goq does (see <see cref="OutputPlacement"/>) and reads it back page by page. Owned by the
/// scheduler thread. A job's output is placed when it is dispatched (<see cref="Plan"/>): where its lines start is
/// staged with the dispatch, in <paramref name="stagePlan"/>, and so committed before any of them can be written. A job
/// whose output could not be placed then is placed at its first line, and <paramref name="recordNewFile"/> must make
/// where its lines start durable at once (false when it cannot: the lines are not written, and come again). <paramref name="synced"/> is told each file and folder put on disk (tests
/// watch it).
/// </summary>
internal sealed class OutputFiles(string home, string outputDir, Action<LogEntry> log, Func<long, OutputIndex?> loadIndex,
    Func<JobInfo, OutputIndex, bool> recordNewFile, Action<string>? synced = null, Action<long, OutputIndex>? stagePlan = null,
    Func<string, Platform.UserAccount?>? accounts = null) : IDisposable
{
    private const int MaxParallelSyncs = 8;
    private const int InlineSyncs = 8;

    // A map's runs travel in one message (about 10 bytes each).
    private const int MaxMappedRuns = 100_000;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly Dictionary<long, JobOutputLog> _logs = new();
    private readonly HashSet<JobOutputLog> _unsynced = [];
    private readonly HashSet<string> _newEntries = [];
    private readonly List<JobOutputLog> _closing = [];
    private readonly object _syncedGate = new();
    private readonly OutputPlacement _placement = new(home, outputDir, log, accounts);
    private readonly LineBuffer _text = new();
    private readonly LineBuffer _records = new();
    private readonly List<(JobOutputLog Log, OutputStream Stream, int Bytes, bool Open)> _added = [];

    /// <summary>Bytes of output written since the server started (the metrics' goq_output_written_bytes_total).</summary>
    public long BytesWritten { get; private set; }

    public static string FileName(long jobId) => $"out.{jobId:D5}";

    /// <summary>
    /// The account whose rights the job's output files are read with: its owner's where the files are in places the
    /// owner controls (a multi-user cluster's server run as root), else null (the server's own).
    /// </summary>
    public Platform.UserAccount? ReaderFor(JobInfo job) => _placement.OwnerFor(job, job.OutputPath);

    /// <summary>goq's name for a job's output; an array task's is its array's with its index (<c>out.00042.7</c>).</summary>
    public static string FileName(JobInfo job) => job.ArrayJobId is { } array ? $"{FileName(array)}.{job.ArrayIndex}" : FileName(job.Id);

    /// <summary>
    /// Places the output of a job being dispatched that has none yet, and stages where its lines start (to be committed
    /// with the dispatch). (Guarantee point: so it is durable before the job's first byte is written, and after a
    /// crash anything past the recorded length can be cut without guessing whose it is.)
    /// </summary>
    public void Plan(JobInfo job)
    {
        if (stagePlan is null || job.OutputPath is not null || _logs.ContainsKey(job.Id) || _placement.Plan(job) is not { } planned)
        {
            return;
        }

        _logs[job.Id] = planned;
        stagePlan(job.Id, planned.ToIndex());
    }

    /// <summary>Drops the plans of jobs that ended without writing a line (<paramref name="holds"/> is false for them).</summary>
    public void ForgetPlans(Func<long, bool> holds)
    {
        foreach (var (id, _) in _logs.Where(l => l.Value.Planned && !holds(l.Key)).ToList())
        {
            _logs.Remove(id);
        }
    }

    /// <summary>
    /// Appends an attempt's lines to the job's file, creating it on the first line. Lines the file already has (a
    /// worker sending them again) are skipped; lines after a gap are refused (the worker sends the gap again).
    /// Returns the job's index after the write, to be committed with the turn, or null when nothing changed.
    /// </summary>
    public OutputIndex? Append(JobInfo job, int attempt, long fromLine, IReadOnlyList<OutputLine> lines)
    {
        if (lines.Count == 0 || Log(job, create: true) is not { } output)
        {
            return null;
        }

        var newAttempt = output.Attempt != attempt;
        if (newAttempt)
        {
            output.Attempt = attempt; // a new attempt appends after the last one's lines, as goq does
            output.AttemptLines = 0;
        }

        if (output.WrittenByWorker)
        {
            TakeBack(output); // this attempt's lines come through the server: its unrecorded tail is its own from now on
        }
        else if (newAttempt)
        {
            EndLineAtEnd(output);
        }

        if (fromLine > output.AttemptLines)
        {
            return null;
        }

        var skip = (int)Math.Min(lines.Count, output.AttemptLines - fromLine);
        if (skip == lines.Count)
        {
            return null;
        }

        // A script-block job's records go to its records file, its text to the text file; both count as one sequence.
        // Each is encoded straight into a buffer kept for the purpose: a stream that grew line by line, and an array per
        // line, were a quarter of the server's time with output-heavy jobs.
        _text.Clear();
        _records.Clear();
        _added.Clear();
        for (var i = skip; i < lines.Count; i++)
        {
            var line = lines[i];
            var (log, buffer) = line.Stream == OutputStream.Record && output.Records is not null ? (output.Records, _records) : (output, _text);
            var bytes = buffer.Append(line);
            // The records file's lines are all records: its index marks them all as one stream.
            // A line left open ends at a break (a cut piece ends where every reader cuts it).
            _added.Add((log, line.Stream == OutputStream.Stderr && log == output ? OutputStream.Stderr : OutputStream.Stdout, bytes, line.End == LineEnd.Open));
        }

        try
        {
            Write(output, _text);
            if (output.Records is not null)
            {
                Write(output.Records, _records);
            }
        }
        catch (IOException)
        {
            // A full disk, say: what reached the file past its recorded end is cut, so the lines, sent again by the
            // worker (they are not acknowledged), are counted and written once.
            CloseWriters(output);
            _placement.TrimUnrecorded(output);
            throw;
        }

        // Counted once written: the index never holds a line the file does not.
        foreach (var (log, stream, bytes, open) in _added)
        {
            log.AddLine(stream, bytes);
            if (open)
            {
                log.AddBreak(log.ByteCount);
            }
        }

        output.AttemptLines += lines.Count - skip;
        return output.ToIndex();
    }

    private void Write(JobOutputLog log, LineBuffer buffer)
    {
        if (buffer.Length == 0)
        {
            return;
        }

        log.Writer ??= OutputPlacement.OpenWriter(log.Path, log.Owner);
        log.Writer.Write(buffer.Bytes, 0, buffer.Length);
        BytesWritten += buffer.Length;
        log.Writer.Flush();
        _unsynced.Add(log);
    }

    /// <summary>
    /// Puts every line written since the last call on disk (fsync), and the folder entries of files created since then.
    /// The server calls this before the commit that records the lines, so an acknowledged line survives a power cut as
    /// well as a crash, like the store's own rows. (Guarantee point.)
    /// </summary>
    public void SyncToDisk()
    {
        // The syncs are independent: issued together, the disk takes them as one queue rather than one after another.
        // A few (a turn that saw one or two jobs' lines) are done here: handing them to the thread pool cost more CPU
        // than they take, in thread wake-ups and spinning.
        var work = _unsynced.Select(output => (Action)(() => Sync(output)))
            .Concat(_newEntries.Select(dir => (Action)(() => SyncFolder(dir)))).ToList();
        _unsynced.Clear();
        _newEntries.Clear();
        if (work.Count <= InlineSyncs)
        {
            work.ForEach(sync => sync());
        }
        else
        {
            Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelSyncs }, sync => sync());
        }

        foreach (var output in _closing)
        {
            CloseWriters(output);
        }

        _closing.Clear();
    }

    /// <summary>
    /// Prepares a job being dispatched to a worker on this host (one that sees this server's files) to have its output
    /// written by that worker: the planned file, or, for a job that wrote before, the end of its recorded lines (anything
    /// a lost writer left past them is cut first). The log is marked as the worker's and its index staged, so it is
    /// committed with the dispatch: after a crash, the server then leaves the file's tail to the worker that reports it
    /// instead of cutting it as a line of its own never recorded. A script-block job's records stay on the server path.
    /// </summary>
    public void Prepare(JobInfo job, int attempt)
    {
        if (stagePlan is null || job.Kind == JobKind.ScriptBlock || Log(job, create: false) is not { Records: null } output
            || (output.Target is not null && output.TargetAttempt == attempt))
        {
            return;
        }

        if (!output.Planned)
        {
            CloseWriters(output); // a writer of the server's own would not see the worker's bytes: it reopens at the end
            _placement.TrimUnrecorded(output);
        }

        output.TargetAttempt = attempt;
        output.WrittenByWorker = true;
        if (!output.Planned)
        {
            EndLineAtEnd(output); // this attempt's first line starts a line of its own
        }

        output.Target = new Protocol.OutputTarget(output.Path, output.StartOffset + output.ByteCount);
        stagePlan(job.Id, output.ToIndex());
    }

    /// <summary>Where the worker of this attempt writes the job's output itself (see <see cref="Prepare"/>), or null: it sends lines.</summary>
    public Protocol.OutputTarget? Target(JobInfo job, int attempt) =>
        _logs.TryGetValue(job.Id, out var output) && output.TargetAttempt == attempt ? output.Target : null;

    /// <summary>
    /// Records lines a worker wrote to the job's file itself (see <see cref="Target"/>): from line
    /// <paramref name="fromLine"/> of the attempt, <paramref name="runs"/> (alternating, stdout first) ending at byte
    /// <paramref name="end"/>. Lines the log already counts are skipped; after a gap, or when this server does not see
    /// the file reach <paramref name="end"/>, nothing is recorded. Returns the index to commit, or null.
    /// </summary>
    public OutputIndex? Record(JobInfo job, int attempt, long fromLine, IReadOnlyList<long> runs, long end, IReadOnlyList<long>? breaks = null)
    {
        if (fromLine < 0 || runs.Any(r => r < 0) || Log(job, create: false) is not { Records: null } output || end < output.StartOffset + output.ByteCount)
        {
            return null;
        }

        var total = runs.Sum();
        if (output.Attempt != attempt)
        {
            output.Attempt = attempt;
            output.AttemptLines = 0;
        }

        if (fromLine > output.AttemptLines || fromLine + total <= output.AttemptLines)
        {
            return null;
        }

        long length;
        try
        {
            length = File.Exists(output.Path) ? new FileInfo(output.Path).Length : -1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            length = -1;
        }

        if (length < end)
        {
            // The file was removed or cut while the job ran, or this server does not see it after all: the lines are
            // counted as the attempt's (so its end is taken, not awaited forever) but not indexed, and it is said.
            log(LogEntry.Error("job.output_not_seen", $"job {job.Id}: its worker wrote '{output.Path}' to byte {end}, but this server sees {(length < 0 ? "no such file" : $"{length} bytes")}; those lines are lost", job: job.Id));
            output.AttemptLines = fromLine + total;
            return output.ToIndex();
        }

        MarkWritten(output);
        job.OutputPath = output.Path; // (a file planned, or rebuilt after a restart, is the job's from its first line)
        CloseWriters(output);
        output.WrittenByWorker = true;
        var skip = output.AttemptLines - fromLine;
        var stream = OutputStream.Stdout;
        foreach (var count in runs)
        {
            var take = Math.Max(0, count - skip);
            skip = Math.Max(0, skip - count);
            output.AddLines(stream, take);
            stream = stream == OutputStream.Stdout ? OutputStream.Stderr : OutputStream.Stdout;
        }

        foreach (var at in breaks ?? [])
        {
            if (at > output.StartOffset + output.ByteCount && at <= end)
            {
                output.AddBreak(at - output.StartOffset);
            }
        }

        BytesWritten += end - (output.StartOffset + output.ByteCount);
        output.ByteCount = end - output.StartOffset;
        output.AttemptLines = fromLine + total;
        return output.ToIndex();
    }

    private static void MarkWritten(JobOutputLog output) => output.Planned = false;

    /// <summary>
    /// The server writes a file a worker wrote before (an attempt elsewhere, or a worker that could not open it): what
    /// that worker left past the recorded end is cut, and a last line it left open ends at a break, so the server's
    /// lines start a line of their own where the index says. (Guarantee point.)
    /// </summary>
    private void TakeBack(JobOutputLog output)
    {
        output.WrittenByWorker = false;
        CloseWriters(output);
        if (output.Planned || !File.Exists(output.Path))
        {
            return;
        }

        _placement.TrimUnrecorded(output);
        EndLineAtEnd(output);
    }

    /// <summary>
    /// When the recorded output ends inside a line (one an attempt left open, a piece of a long one, or an index from
    /// before breaks were kept), a break is put there: the next attempt's first line starts a line of its own, and
    /// nothing is written into the file to say so.
    /// </summary>
    private static void EndLineAtEnd(JobOutputLog output)
    {
        if (output.ByteCount > 0 && !output.EndsAtBreak && !output.Planned
            && OutputPlacement.ByteAt(output.Path, output.StartOffset + output.ByteCount - 1, output.Owner) is { } last && last != (byte)'\n')
        {
            output.AddBreak(output.ByteCount);
        }
    }

    /// <summary>How many lines of this attempt the job's file holds.</summary>
    public long AttemptLines(JobInfo job, int attempt) =>
        Log(job, create: false) is { } output && output.Attempt == attempt ? output.AttemptLines : 0;

    /// <summary>
    /// Where the job's recorded output is, with hashes of its first and last 4 KiB, for a reader that sees the file
    /// itself; null when it has no indexed file or more stream runs than are worth sending.
    /// </summary>
    public (string Path, OutputIndex Index, string Head, string Tail)? Map(JobInfo job, bool records = false)
    {
        if (Pick(Log(job, create: false), records) is not { Planned: false } output || output.Runs.Count > MaxMappedRuns)
        {
            return null;
        }

        try
        {
            var (head, tail) = OutputFingerprint.Of(output.Path, output.StartOffset, output.ByteCount);
            return (output.Path, output.ToIndex(), head, tail);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Where the job's recorded text output is in its file (its bytes as written), or null when it has none yet.</summary>
    public (string Path, long Start, long Bytes)? Range(JobInfo job) =>
        Pick(Log(job, create: false), records: false) is { Planned: false } output ? (output.Path, output.StartOffset, output.ByteCount) : null;

    /// <summary>How many lines the job's output has, or null when its file has no index (then every line is read to the end).</summary>
    public long? LineCount(JobInfo job, bool records = false) => Pick(Log(job, create: false), records)?.LineCount;

    /// <summary>The job ended: close its file; returns its index, to be stored with the job.</summary>
    public OutputIndex? Close(long jobId)
    {
        if (!_logs.Remove(jobId, out var output))
        {
            return null;
        }

        if (_unsynced.Contains(output) || (output.Records is { } records && _unsynced.Contains(records)))
        {
            _closing.Add(output); // its last lines are acknowledged with this turn's commit: closed once they are synced
        }
        else
        {
            CloseWriters(output);
        }

        return output.ToIndex();
    }

    private static void CloseWriters(JobOutputLog output)
    {
        foreach (var log in new[] { output, output.Records })
        {
            if (log is not null)
            {
                try
                {
                    log.Writer?.Dispose(); // flushes: may fail on a full disk, with lines that were never acknowledged
                }
                catch (IOException)
                {
                    // those lines come again from the worker, which holds them until they are acknowledged
                }

                log.Writer = null;
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="maxLines"/> lines (and about <paramref name="maxBytes"/> of JSON) from line
    /// <paramref name="fromLine"/> on. <paramref name="fromOffset"/>, when not negative, is where that line starts (the
    /// NextOffset of the page before): reading goes on from there instead of from the nearest checkpoint, so a reader
    /// paging through the whole output reads it once. A wrong offset only garbles that reader's own page.
    /// </summary>
    public OutputPage Read(JobInfo job, long fromLine, long fromOffset, int maxLines, long maxBytes, bool records = false)
    {
        var output = Pick(Log(job, create: false), records);
        if (output is { Planned: true })
        {
            return new OutputPage([], fromLine, Math.Max(0, fromOffset)); // nothing written yet
        }

        if (output is null)
        {
            return !records && job.OutputPath is { } path && File.Exists(path)
                ? ReadUnindexed(path, fromLine, fromOffset, maxLines, maxBytes)
                : new OutputPage([], fromLine, Math.Max(0, fromOffset));
        }

        fromLine = Math.Clamp(fromLine, 0, output.LineCount);
        long line, offset;
        if (fromOffset >= 0 && fromOffset <= output.ByteCount)
        {
            (line, offset) = (fromLine, fromOffset);
        }
        else
        {
            // The last checkpoint at or before the line asked for (an index loaded from the store has none).
            var checkpoint = Math.Min((int)(fromLine / JobOutputLog.CheckpointEvery), output.Checkpoints.Count - 1);
            line = checkpoint < 0 ? 0 : (long)checkpoint * JobOutputLog.CheckpointEvery;
            offset = checkpoint < 0 ? 0 : output.Checkpoints[checkpoint];
            offset = OutputPageReader.Skip(output.Path, output.StartOffset + offset, fromLine - line, output.LineBreaks) - output.StartOffset;
            line = fromLine;
        }

        var page = OutputPageReader.Read(output.Path, output.StartOffset + offset, line, output.LineCount, maxLines, maxBytes, StreamRuns.At(output.Runs, line), output.LineBreaks);
        return page with { NextOffset = page.NextOffset - output.StartOffset };
    }

    public void Dispose()
    {
        foreach (var output in _logs.Values.Concat(_closing))
        {
            CloseWriters(output);
        }
    }

    /// <summary>The text log, or (asked for records) the records log, null for a job that has none.</summary>
    private static JobOutputLog? Pick(JobOutputLog? output, bool records) => records ? output?.Records : output;

    private void SyncFolder(string dir)
    {
        if (DurableFolder.Sync(dir, log))
        {
            Synced(dir);
        }
    }

    private void Synced(string path)
    {
        if (synced is not null)
        {
            lock (_syncedGate) // the syncs of a turn run in parallel; the hook is told one at a time
            {
                synced(path);
            }
        }
    }

    private void Sync(JobOutputLog output)
    {
        try
        {
            if (output.Writer is { } writer)
            {
                writer.Flush(flushToDisk: true);
                Synced(output.Path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log(LogEntry.Error("output.sync_failed", $"cannot sync '{output.Path}' to disk: {ex.Message}"));
        }
    }

    /// <summary>A file without an index (its record was lost): every line is stdout.</summary>
    private static OutputPage ReadUnindexed(string path, long fromLine, long fromOffset, int maxLines, long maxBytes)
    {
        var offset = fromOffset >= 0 ? fromOffset : OutputPageReader.Skip(path, 0, fromLine, LineBreaks.None);
        return OutputPageReader.Read(path, offset, fromLine, long.MaxValue, maxLines, maxBytes, StreamRuns.At([], 0), LineBreaks.None);
    }

    /// <summary>
    /// The job's log: in memory (made real at its first line when it was only planned), else rebuilt from its stored
    /// index, else (when asked) a new file.
    /// </summary>
    private JobOutputLog? Log(JobInfo job, bool create)
    {
        if (_logs.TryGetValue(job.Id, out var output))
        {
            if (!output.Planned || !create || _placement.Materialize(job, output, _newEntries))
            {
                return output;
            }

            _logs.Remove(job.Id); // the plan no longer holds: placed anew below
            output = null;
        }
        else if ((job.OutputPath is not null || !job.State.IsTerminal()) && loadIndex(job.Id) is { } index && (job.OutputPath ?? index.Path) is { } path)
        {
            // After a restart: a file written to, or one planned for a job that had not written yet.
            output = JobOutputLog.FromIndex(path, index);
            output.Owner = _placement.OwnerFor(job, path);
            if (output.Records is { } records)
            {
                records.Owner = output.Owner;
            }

            if (File.Exists(path))
            {
                if (!output.WrittenByWorker || job.State.IsTerminal())
                {
                    // A worker writing this file itself owns its tail while its job runs: it reports those lines, and
                    // the next attempt's Prepare cuts what a lost one left.
                    _placement.TrimUnrecorded(output);
                }
            }
            else if (job.State.IsTerminal())
            {
                return null;
            }
            else
            {
                MarkPlanned(output);
                if (create && !_placement.Materialize(job, output, _newEntries))
                {
                    output = null;
                }
            }
        }

        if (output is null && create)
        {
            output = _placement.Open(job, _newEntries);
            if (output is not null)
            {
                // Guarantee point: where this job's lines start is durable before its first byte is written (it had
                // no plan, or its plan failed).
                if (!recordNewFile(job, output.ToIndex()))
                {
                    throw new IOException("where its lines start cannot be stored now (the server's store is unavailable)");
                }
            }
        }

        if (output is not null && !job.State.IsTerminal())
        {
            _logs[job.Id] = output; // kept while the job can still write; ended jobs are rebuilt on demand
        }

        return output;
    }

    private static void MarkPlanned(JobOutputLog output)
    {
        output.Planned = true;
        if (output.Records is { } records)
        {
            records.Planned = true;
        }
    }
}
