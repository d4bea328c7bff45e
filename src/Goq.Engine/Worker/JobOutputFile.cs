using System.Runtime.InteropServices;
using System.Text;
using Goq.Protocol;
using Goq.Platform;

namespace Goq.Worker;

// Over 400 lines: one file's state (descriptor, held-back partial lines, counts, runs, sync and acknowledgement)
// under one lock. Where lines end is LineCuts'; splitting the counting out would spread that lock over types. The run
// and break bookkeeping (_runs, _breaks, acknowledgement) is the part to make a type of its own next.
/// <summary>
/// A job's output file written by the worker itself, as Slurm's slurmstepd does, when the server has said the worker sees
/// the same file (it runs on the server's host: <see cref="OutputTarget"/>). The job's bytes go from its pipes to the
/// file as they are read, whole lines of one stream at a time (stdout and stderr interleaved as they came, their CRs and
/// their bytes as written); only counts travel: after each fsync the worker tells the server how many lines are on disk,
/// where they end, and which of them came from stderr (<see cref="JobOutputWritten"/>), and the server records that as
/// it would its own writes. Through the server, every line cost a string, JSON, a signature and two CURVE hops: a job
/// writing `seq` ran at about 3-4 MB/s. The file is opened at the first byte, so a job that writes nothing makes none.
/// Nothing is put into the file: a line longer than the limit is counted as the pieces every reader cuts it into
/// (<see cref="Output.LineCuts"/>), and a stream's last bytes without a newline end a line at a break, which the report
/// carries to the index.
/// Thread use: the job's I/O thread writes; the runner's thread may add goq's own lines; the worker's socket thread
/// takes snapshots and acknowledgements; a sync runs on the thread pool. One lock guards the state.
/// </summary>
/// <param name="owner">The job's owner, whose rights the file's folder and the file are made with (a multi-user cluster's root worker); null: the worker's own.</param>
public sealed unsafe class JobOutputFile(OutputTarget target, Action<string> log, Platform.UserAccount? owner = null) : IDisposable
{
    private const int ORdwr = 0x2, OCreat = 0x40, ONofollow = 0x20000;

    private readonly Lock _gate = new();
    private readonly MemoryStream[] _partial = [new(), new()]; // by stream: stdout 0, stderr 1
    private readonly List<(OutputStream Stream, long Count)> _runs = []; // lines not yet acknowledged, from _ackedLines on
    private readonly List<byte> _scratch = [];
    private readonly List<string> _newEntries = [];
    private readonly List<(long Lines, long Offset)> _breaks = []; // not yet acknowledged: lines counted up to each, and where it is // folders whose entries are new: synced with the next lines
    private readonly SemaphoreSlim _syncOne = new(1, 1);
    private int _fd = -1;
    private bool _failed;
    private long _end; // file offset after the last byte written
    private long _lines; // complete lines written (their newline is in the file)
    private long _lineEnd; // file offset after the last complete line
    private OutputStream? _open; // the stream whose line was written without its newline yet
    private long _ackedLines;
    private long _syncedLines;
    private long _syncedEnd;
    private bool _closed; // disposed: nothing more is written (a late line goes nowhere, never to a new descriptor)

    public OutputTarget Target { get; } = target;

    /// <summary>False once the file could not be opened: the job's output then goes through the server as lines.</summary>
    public bool Direct
    {
        get
        {
            lock (_gate)
            {
                return !_failed;
            }
        }
    }

    /// <summary>Whether the file was opened (the job wrote something): a job that wrote nothing has nothing to sync.</summary>
    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _fd >= 0;
            }
        }
    }

    /// <summary>Lines on disk and acknowledged or not, and whether bytes wait for a sync.</summary>
    public bool HasUnsynced
    {
        get
        {
            lock (_gate)
            {
                return _fd >= 0 && (_lines > _syncedLines || _end > _syncedEnd);
            }
        }
    }

    /// <summary>
    /// Bytes read from one of the job's pipes. Returns false when the file cannot be used (then the caller passes them
    /// on as lines, and so does every later call).
    /// </summary>
    public bool Write(OutputStream stream, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (!Opened())
            {
                return false;
            }

            var partial = _partial[Index(stream)];
            var last = data.LastIndexOf((byte)'\n');
            if (last < 0)
            {
                partial.Write(data);
                CutLongPartial(stream, partial);
                return true;
            }

            // Whole lines: what was held back for this stream, then the data up to its last newline.
            _scratch.Clear();
            if (partial.Length > 0)
            {
                _scratch.AddRange(partial.GetBuffer().AsSpan(0, (int)partial.Length));
                partial.SetLength(0);
            }

            AppendLines(stream, data[..(last + 1)]);
            partial.Write(data[(last + 1)..]);
            CutLongPartial(stream, partial);
            return true;
        }
    }

    /// <summary>The pipe ended: what it left without a newline is written (ended with one when anything follows).</summary>
    public bool End(OutputStream stream)
    {
        lock (_gate)
        {
            var partial = _partial[Index(stream)];
            if (partial.Length == 0)
            {
                return !_failed;
            }

            if (!Opened())
            {
                return false;
            }

            WriteOpen(stream, partial.GetBuffer().AsSpan(0, (int)partial.Length));
            partial.SetLength(0);
            return true;
        }
    }

    /// <summary>A line of goq's own (a failure, a cancel): false when the file cannot be used.</summary>
    public bool Line(OutputStream stream, string text)
    {
        lock (_gate)
        {
            if (!Opened())
            {
                return false;
            }

            Terminate();
            _scratch.Clear();
            _scratch.AddRange(Encoding.UTF8.GetBytes(text.Replace('\n', ' ')));
            _scratch.Add((byte)'\n');
            var line = CollectionsMarshal.AsSpan(_scratch);
            WriteBytes(line);
            var count = Output.LineCuts.Count(line);
            AddRun(stream, count);
            _lines += count;
            _lineEnd = _end;
            return true;
        }
    }

    /// <summary>
    /// Puts what was written on disk (fsync, and the folder's entry for a new file); returns the lines and the end now
    /// durable, or null when nothing new was written. One sync at a time: a second waits for the first.
    /// <paramref name="final"/> counts a last line without its newline (the job has ended). Blocks: call it off the
    /// socket thread.
    /// </summary>
    public (long Lines, long End)? Sync(bool final)
    {
        _syncOne.Wait();
        try
        {
            return SyncOnce(final);
        }
        finally
        {
            _syncOne.Release();
        }
    }

    private (long Lines, long End)? SyncOnce(bool final)
    {
        int fd;
        long lines, end;
        string[] dirs;
        lock (_gate)
        {
            if (_fd < 0)
            {
                return null;
            }

            if (final)
            {
                Terminate(); // the job wrote its last line without a newline: it counts as a line, ended by a break
            }

            (lines, end) = (_lines, _lineEnd);
            if (lines == _syncedLines && end == _syncedEnd)
            {
                return null;
            }

            fd = _fd;
            dirs = [.. _newEntries];
            _newEntries.Clear();
        }

        var ok = LibC.fsync(fd) == 0;
        if (!ok)
        {
            log($"cannot sync '{Target.Path}' to disk: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        foreach (var dir in dirs)
        {
            Storage.DurableFolder.Sync(dir, _ => { });
        }

        lock (_gate)
        {
            if (!ok)
            {
                return null;
            }

            (_syncedLines, _syncedEnd) = (lines, end);
            return (lines, end);
        }
    }

    /// <summary>
    /// What to tell the server: the lines on disk not yet acknowledged, from <c>FromLine</c>, with their streams and the
    /// breaks (file offsets) among them.
    /// </summary>
    public (long FromLine, IReadOnlyList<long> Runs, long End, IReadOnlyList<long> Breaks)? Unacknowledged()
    {
        lock (_gate)
        {
            if (_syncedLines <= _ackedLines)
            {
                return null;
            }

            // Runs up to the synced line count, in the stored form.
            var runs = Output.StreamRuns.ToAlternating(_runs, _syncedLines - _ackedLines);
            var breaks = _breaks.Where(b => b.Lines <= _syncedLines).Select(b => b.Offset).ToList();
            return (_ackedLines, runs, _syncedEnd, breaks);
        }
    }

    /// <summary>The server has recorded the first <paramref name="lines"/> lines: their runs are let go.</summary>
    public void Acknowledged(long lines)
    {
        lock (_gate)
        {
            var drop = Math.Min(lines, _syncedLines) - _ackedLines;
            while (drop > 0 && _runs.Count > 0)
            {
                var (stream, count) = _runs[0];
                if (count <= drop)
                {
                    _runs.RemoveAt(0);
                    drop -= count;
                    _ackedLines += count;
                }
                else
                {
                    _runs[0] = (stream, count - drop);
                    _ackedLines += drop;
                    drop = 0;
                }
            }

            _breaks.RemoveAll(b => b.Lines <= _ackedLines);
        }
    }

    /// <summary>How many lines the attempt has written (complete ones, and the last one once <see cref="Sync"/> ran final).</summary>
    public long Lines
    {
        get
        {
            lock (_gate)
            {
                return _lines;
            }
        }
    }

    /// <summary>The lines on disk: what the worker can report (after a failed fsync, fewer than were written).</summary>
    public long SyncedLines
    {
        get
        {
            lock (_gate)
            {
                return _syncedLines;
            }
        }
    }

    public long AckedLines
    {
        get
        {
            lock (_gate)
            {
                return _ackedLines;
            }
        }
    }

    public void Dispose()
    {
        _syncOne.Wait(); // never closed under a sync
        try
        {
            lock (_gate)
            {
                if (_fd >= 0)
                {
                    LibC.close(_fd);
                    _fd = -1;
                }

                _closed = true;
            }
        }
        finally
        {
            _syncOne.Release();
        }
    }

    private static int Index(OutputStream stream) => stream == OutputStream.Stderr ? 1 : 0;

    /// <summary>Opens the file at its first byte. Guarantee point: it must end where the server says this attempt starts.</summary>
    private bool Opened()
    {
        if (_fd >= 0 || _failed || _closed)
        {
            return _fd >= 0;
        }

        // Checkpoint (identity): the folder and the file are made with the owner's rights, never root's.
        return Platform.FileCredentials.As(owner, OpenedAsOwner);
    }

    private bool OpenedAsOwner()
    {
        try
        {
            var dir = Path.GetDirectoryName(Target.Path)!;
            if (!Directory.Exists(dir))
            {
                Configuration.GoqHomeInitializer.CreatePrivateDirectory(dir);
                _newEntries.Add(Path.GetDirectoryName(dir)!);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail($"cannot make the folder of '{Target.Path}': {ex.Message}");
        }

        var path = Marshal.StringToCoTaskMemUTF8(Target.Path);
        try
        {
            // O_NOFOLLOW: a link put where the output goes is refused, never followed.
            _fd = LibC.open((byte*)path, ORdwr | OCreat | ONofollow | LibC.OCloexec, Convert.ToInt32("644", 8));
        }
        finally
        {
            Marshal.FreeCoTaskMem(path);
        }

        if (_fd < 0)
        {
            return Fail($"cannot open '{Target.Path}': {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        var length = LibC.lseek(_fd, 0, 2);
        if (length != Target.Start)
        {
            // Another writer appended since the job was dispatched (or the file is not the server's): leave it be.
            LibC.close(_fd);
            _fd = -1;
            return Fail($"'{Target.Path}' is {length} bytes where the server expects {Target.Start}");
        }

        _end = _lineEnd = _syncedEnd = Target.Start;
        if (Target.Start == 0)
        {
            _newEntries.Add(Path.GetDirectoryName(Target.Path)!); // a new name in the folder: synced with the first lines
        }

        return true;
    }

    private bool Fail(string why)
    {
        _failed = true;
        log($"{why}; the job's output goes through the server instead");
        return false;
    }

    /// <summary>
    /// Writes whole lines of <paramref name="stream"/>: <see cref="_scratch"/> (held back from before) then
    /// <paramref name="data"/>, which ends with a newline; a line longer than the limit counts as its pieces.
    /// </summary>
    private void AppendLines(OutputStream stream, ReadOnlySpan<byte> data)
    {
        Terminate(); // a line left open is only ever a pipe's last, so another writer comes after it
        long count;
        if (_scratch.Count == 0)
        {
            count = Output.LineCuts.Count(data);
            WriteBytes(data);
        }
        else
        {
            _scratch.AddRange(data);
            var all = CollectionsMarshal.AsSpan(_scratch);
            count = Output.LineCuts.Count(all);
            WriteBytes(all);
        }

        AddRun(stream, count);
        _lines += count;
        _lineEnd = _end;
    }

    /// <summary>A line held back past the limit: its pieces are written now, each counted as a line, and the rest kept.</summary>
    private void CutLongPartial(OutputStream stream, MemoryStream partial)
    {
        if (partial.Length <= Output.LineCuts.MaxBytes)
        {
            return;
        }

        Terminate();
        var all = partial.GetBuffer().AsSpan(0, (int)partial.Length);
        long count = 0;
        while (all.Length > Output.LineCuts.MaxBytes)
        {
            var cut = Output.LineCuts.Boundary(all);
            WriteBytes(all[..cut]);
            all = all[cut..];
            count++;
        }

        AddRun(stream, count);
        _lines += count;
        _lineEnd = _end;
        all.CopyTo(partial.GetBuffer());
        partial.SetLength(all.Length);
    }

    /// <summary>A stream's last bytes without a newline: written, and counted once something ends them or the job ends.</summary>
    private void WriteOpen(OutputStream stream, ReadOnlySpan<byte> data)
    {
        Terminate();
        WriteBytes(data);
        _open = stream;
    }

    /// <summary>Ends a line written without its newline at a break, so what follows starts a line of its own.</summary>
    private void Terminate()
    {
        if (_open is not { } open)
        {
            return;
        }

        AddRun(open, 1);
        _lines++;
        _lineEnd = _end;
        _breaks.Add((_lines, _end));
        _open = null;
    }

    private void AddRun(OutputStream stream, long count) => Output.StreamRuns.Add(_runs, stream, count);

    private void WriteBytes(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            nint n;
            fixed (byte* p = data)
            {
                n = LibC.write(_fd, p, data.Length);
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.Eintr)
                {
                    continue;
                }

                // Checkpoint: a full disk or an I/O error. What was written stays; lines are only counted once the
                // fsync succeeds, and the server records nothing past the last good sync.
                throw new IOException($"cannot write to '{Target.Path}': {LibC.ErrorText(errno)}");
            }

            data = data[(int)n..];
            _end += n;
        }
    }
}
