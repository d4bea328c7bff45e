using System.Runtime.InteropServices;
using System.Text;

namespace Goq.Worker;

/// <summary>
/// One output pipe of a job: reads what is there and hands on complete lines (and, at the end, the rest); or, when
/// the worker writes the job's file itself (<paramref name="file"/>), hands the bytes to it as they are.
/// </summary>
internal sealed unsafe class PipeLineBuffer(OutputStream stream, int fd, int maxLineChars, JobOutputFile? file = null)
{
    private readonly MemoryStream _partial = new();

    public int Fd { get; } = fd;

    public bool Open { get; private set; } = true;

    /// <summary>Treats the pipe as ended (it is no longer read): what it left without a newline is handed on.</summary>
    public void Finish(Action<OutputStream, string> emit)
    {
        if (!Open)
        {
            return;
        }

        Open = false;
        if (file is not null && file.End(stream))
        {
            return;
        }

        if (_partial.Length > 0)
        {
            Emit(_partial.GetBuffer().AsSpan(0, (int)_partial.Length), emit);
            _partial.SetLength(0);
        }
    }

    /// <summary>One read(2); end of file (or an error other than EINTR/EAGAIN) closes the stream.</summary>
    public void ReadOnce(byte[] buffer, Action<OutputStream, string> emit)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            n = LibC.read(Fd, p, buffer.Length);
        }

        if (n < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is LibC.Eintr or LibC.Eagain)
            {
                return;
            }

            n = 0; // any other error ends the stream like end of file
        }

        if (n == 0)
        {
            Finish(emit); // end of file
            return;
        }

        var data = buffer.AsSpan(0, (int)n);
        if (file is not null && _partial.Length == 0 && file.Write(stream, data))
        {
            return; // only a file that cannot be opened says no, at its first bytes: then nothing was held back here
        }

        int newline;
        while ((newline = data.IndexOf((byte)'\n')) >= 0)
        {
            if (_partial.Length > 0)
            {
                _partial.Write(data[..newline]);
                Emit(_partial.GetBuffer().AsSpan(0, (int)_partial.Length), emit);
                _partial.SetLength(0);
            }
            else
            {
                Emit(data[..newline], emit);
            }

            data = data[(newline + 1)..];
        }

        _partial.Write(data);
        while (_partial.Length > maxLineChars)
        {
            // A very long line is passed on in pieces of at most maxLineChars bytes, cut between two characters (never
            // inside one), so the pieces put together give back the line exactly.
            var all = _partial.ToArray();
            var cut = maxLineChars;
            while (cut > maxLineChars - 4 && cut > 1 && (all[cut] & 0xC0) == 0x80)
            {
                cut--; // a UTF-8 continuation byte: the character starts before it
            }

            Emit(all.AsSpan(0, cut), emit, trimCr: false);
            _partial.SetLength(0);
            _partial.Write(all.AsSpan(cut));
        }
    }

    private void Emit(ReadOnlySpan<byte> line, Action<OutputStream, string> emit, bool trimCr = true)
    {
        if (trimCr && line.Length > 0 && line[^1] == '\r')
        {
            line = line[..^1];
        }

        emit(stream, Encoding.UTF8.GetString(line));
    }
}
