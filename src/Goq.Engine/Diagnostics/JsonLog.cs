using System.Text;
using System.Text.Json;

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

    private readonly Lock _gate = new();
    private readonly string _role;
    private readonly string? _workerId;
    private AppendOnlyFile? _file;
    private long _checkedAt;

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
                    // Rotated now, by us or by another writer: look at the path again at the next line instead of a
                    // second later, so no writer goes on filling a rotated file (under load it grew to twice the limit).
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
            _file?.Dispose();
            _file = Open();
        }

        return _file;
    }

    private AppendOnlyFile Open()
    {
        var file = new AppendOnlyFile(Path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // the owner's only, as a home's other files
        }
        return file;
    }

    /// <summary>
    /// Shifts the old files up and starts a new one. One process rotates at a time (a lock file beside the log); one that
    /// finds the lock taken leaves it to the holder, and one that finds the file already rotated does nothing.
    /// </summary>
    private void Rotate()
    {
        FileStream guard;
        try
        {
            guard = new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return; // another process is rotating
        }

        using (guard)
        {
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
        }

        _file?.Dispose();
        _file = Open();
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
}
