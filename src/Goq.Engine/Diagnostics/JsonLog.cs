using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Goq.Platform;

namespace Goq.Diagnostics;

/// <summary>
/// A role's log: one JSON object a line (time, level, event, jobId, workerId, role, pid, message), appended to a file
/// that several processes may share (every worker, relay and job keeper of a host writes <c>worker-&lt;host&gt;.log</c>),
/// rotated by size: past <see cref="MaxBytes"/> the file becomes <c>.1</c>, <c>.1</c> becomes <c>.2</c>, and so on,
/// keeping <see cref="Keep"/> old files. Safe from any thread of any of those processes.
/// </summary>
public sealed class JsonLog : IDisposable
{
    public const long DefaultMaxBytes = 10L * 1024 * 1024;
    public const int DefaultKeep = 5;

    /// <summary>How often a writer checks that its file is still the one the path names (another process may have rotated it).</summary>
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a writer whose file is full waits for another writer's rotation to end (a few renames) before it writes on
    /// anyway: only a holder stopped in the middle of one takes longer, and it must not stop the roles that log (after
    /// such a wait a writer only tries the lock, line after line, until it has it again).
    /// </summary>
    private static readonly TimeSpan RotationWait = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly string _role;
    private readonly string? _workerId;
    private AppendOnlyFile? _file;
    private long _checkedAt;
    private bool _rotationLockMissed;

    public JsonLog(string path, string role, string? workerId = null, long maxBytes = DefaultMaxBytes, int keep = DefaultKeep)
    {
        Path = path;
        _role = role;
        _workerId = workerId;
        MaxBytes = maxBytes;
        Keep = keep;
        _file = Open();
    }

    public string Path { get; }

    public long MaxBytes { get; }

    public int Keep { get; }

    /// <summary>A plain message, as an info line of event <c>message</c> (for callers that have no event of their own).</summary>
    public void Write(string message) => Write(LogEntry.Info("message", message));

    public void Write(LogEntry entry)
    {
        var line = Format(entry);
        lock (_gate)
        {
            try
            {
                var file = Current();
                if (file is null)
                {
                    return;
                }

                file.Write(line); // one write of a whole line: appends from several processes never interleave within a line
                if (file.Length >= MaxBytes)
                {
                    Rotate();
                    // Rotated now, by us or by another writer, and we write to the path's new file; if the lock could not
                    // be had, look at the path again at the next line instead of a second later.
                    _checkedAt = 0;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                // A log that cannot be written never stops the role it logs for.
            }
        }
    }

    private byte[] Format(LogEntry entry)
    {
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("level", entry.Level.ToString().ToLowerInvariant());
            json.WriteString("event", entry.Event);
            if (entry.JobId is { } job)
            {
                json.WriteNumber("jobId", job);
            }

            if ((entry.WorkerId ?? _workerId) is { } worker)
            {
                json.WriteString("workerId", worker);
            }

            if (entry.User is { } user)
            {
                json.WriteString("user", user);
            }

            if (entry.Action is { } action)
            {
                json.WriteString("action", action);
            }

            json.WriteString("role", _role);
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteString("message", entry.Message);
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Our file, reopened when another process rotated it away from the path since we last looked.</summary>
    private AppendOnlyFile? Current()
    {
        var now = Environment.TickCount64;
        if (_file is not null && now - _checkedAt < RecheckEvery.TotalMilliseconds)
        {
            return _file;
        }

        _checkedAt = now;
        // Both are appended to at their ends: the path's length differs from ours when it names another file.
        var onPath = new FileInfo(Path);
        if (_file is null || !onPath.Exists || onPath.Length != _file.Length)
        {
            Reopen();
        }

        return _file;
    }

    /// <summary>Closes our file and opens the one the path names.</summary>
    private void Reopen()
    {
        var old = _file;
        // An open that fails leaves no file, opened again at the next line; never a closed one, whose descriptor number
        // the next open anywhere in the process may take (our lines would go there, and our Dispose would close it).
        _file = null;
        old?.Dispose();
        _file = Open();
    }

    private AppendOnlyFile Open()
    {
        var file = new AppendOnlyFile(Path);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // the owner's only, as a home's other files
            }
        }
        catch (FileNotFoundException)
        {
            // Another writer rotated the file away between our open and this: the one we hold (now .1) is still ours
            // to append to; it is full, so the line we write there sends us on to the new one.
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return file;
    }

    /// <summary>
    /// Shifts the old files up, starts a new one and writes on to it. One writer of any thread or process rotates at a
    /// time, under a lock file beside the log; one that finds the lock taken waits for the holder to finish, then finds
    /// the file already rotated and only reopens the path. So a full file takes at most one more line from each writer;
    /// writers that appended on while the holder worked filled it by as much as the holder was slow (under load, past
    /// twice the limit).
    /// </summary>
    private void Rotate()
    {
        using var guard = RotationLock.Take(Path + ".lock", _rotationLockMissed ? TimeSpan.Zero : RotationWait);
        _rotationLockMissed = guard is null;
        if (guard is null)
        {
            return; // no lock in time: written on, and tried again at the next line
        }

        if (new FileInfo(Path) is { Exists: true } onPath && onPath.Length >= MaxBytes)
        {
            for (var i = Keep - 1; i >= 1; i--)
            {
                var older = $"{Path}.{i}";
                if (File.Exists(older))
                {
                    File.Move(older, $"{Path}.{i + 1}", overwrite: true);
                }
            }

            File.Move(Path, Path + ".1", overwrite: true);
        }

        Reopen(); // still under the lock: the file the path names now is below the limit
        _checkedAt = Environment.TickCount64;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file?.Dispose();
            _file = null;
        }
    }

    /// <summary>
    /// The rotation lock: on Linux an flock on the lock file, which the kernel drops with a holder that dies, and which
    /// separate opens of one process hold against each other too (so it serves threads and processes alike); elsewhere,
    /// where one process writes a file, the lock file opened unshared, left to its holder when taken.
    /// </summary>
    private sealed unsafe class RotationLock : IDisposable
    {
        private const int LockEx = 2;
        private const int LockNb = 4;

        private readonly int _fd = -1;
        private readonly FileStream? _stream;

        private RotationLock(int fd) => _fd = fd;

        private RotationLock(FileStream stream) => _stream = stream;

        /// <summary>The lock, waiting up to <paramref name="wait"/> while another writer holds it; null when not had.</summary>
        public static RotationLock? Take(string path, TimeSpan wait)
        {
            if (!OperatingSystem.IsLinux())
            {
                try
                {
                    return new RotationLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                }
                catch (IOException)
                {
                    return null;
                }
            }

            var name = Encoding.UTF8.GetBytes(path + "\0");
            int fd;
            fixed (byte* p = name)
            {
                fd = LibC.open(p, LibC.OWronly | LibC.OCreat | LibC.OCloexec, 0b110_000_000);
            }

            if (fd < 0)
            {
                return null;
            }

            var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
            while (flock(fd, LockEx | LockNb) != 0)
            {
                // Polled rather than blocked on, so that a holder stopped mid-rotation delays a writer, never stops it.
                var errno = Marshal.GetLastPInvokeError();
                if (errno is not (LibC.Eagain or LibC.Eintr) || Environment.TickCount64 >= deadline)
                {
                    LibC.close(fd);
                    return null;
                }

                Thread.Sleep(1);
            }

            return new RotationLock(fd);
        }

        public void Dispose()
        {
            _stream?.Dispose();
            if (_fd >= 0)
            {
                LibC.close(_fd); // drops the flock
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int flock(int fd, int operation);
    }
}
