using System.Text;
using Goq.Platform;

namespace Goq.Diagnostics;

/// <summary>
/// A file several processes append to at once. On Linux it is opened with O_APPEND, so each write lands whole at the
/// end whoever else writes (.NET's FileStream keeps its own offset and would write over another process's lines);
/// elsewhere it is a FileStream, good for one process a file.
/// </summary>
internal sealed unsafe class AppendOnlyFile : IDisposable
{
    private readonly int _fd = -1;
    private readonly FileStream? _stream;

    public AppendOnlyFile(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            var name = Encoding.UTF8.GetBytes(path + "\0");
            fixed (byte* p = name)
            {
                _fd = LibC.open(p, LibC.OWronly | LibC.OCreat | LibC.OAppend | LibC.OCloexec, 0b110_000_000); // 0600, like every file of a home
            }

            if (_fd < 0)
            {
                throw new IOException($"cannot open '{path}' (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
            }
        }
        else
        {
            _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        }
    }

    /// <summary>The size of the file this handle writes (which may no longer be the one its path names).</summary>
    public long Length => _stream?.Length ?? LibC.lseek(_fd, 0, LibC.SeekEnd);

    /// <summary>
    /// Appends <paramref name="bytes"/> (a line) whole, or not at all: a write the disk cut short (full) is taken back,
    /// so no reader ever sees half a line run into the next one.
    /// </summary>
    public void Write(byte[] bytes)
    {
        if (_stream is not null)
        {
            _stream.Write(bytes);
            return;
        }

        fixed (byte* p = bytes)
        {
            var done = 0;
            while (done < bytes.Length)
            {
                var n = LibC.write(_fd, p + done, bytes.Length - done);
                if (n < 0)
                {
                    var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                    if (errno == LibC.Eintr)
                    {
                        continue;
                    }

                    if (done > 0)
                    {
                        // Our part ends at our offset (O_APPEND wrote it at the end): cut it off again. A line another
                        // process appended in the instant between (on a disk that had just filled) is cut with it.
                        _ = LibC.ftruncate(_fd, LibC.lseek(_fd, 0, LibC.SeekCur) - done);
                    }

                    throw new IOException($"cannot write the log (errno {errno})");
                }

                done += (int)n;
            }
        }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        if (_fd >= 0)
        {
            LibC.close(_fd);
        }
    }
}
