using System.Runtime.InteropServices;
using Goq.Output;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// One output pipe of a job: reads what is there and hands on its lines as <see cref="LineCuts"/> cuts them (whole
/// lines, pieces of long ones, and at the end the rest), each with how it ended and, when they are not UTF-8, its bytes;
/// or, when the worker writes the job's file itself (<paramref name="file"/>), hands the bytes to it as they are.
/// </summary>
internal sealed unsafe class PipeLineBuffer(OutputStream stream, int fd, JobOutputFile? file = null)
{
    private readonly MemoryStream _partial = new();

    public int Fd { get; } = fd;

    public bool Open { get; private set; } = true;

    /// <summary>Treats the pipe as ended (it is no longer read): what it left without a newline is handed on.</summary>
    public void Finish(Action<OutputLine> emit)
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
            emit(OutputLine.FromBytes(stream, _partial.GetBuffer().AsSpan(0, (int)_partial.Length), LineEnd.Open));
            _partial.SetLength(0);
        }
    }

    /// <summary>One read(2); end of file (or an error other than EINTR/EAGAIN) closes the stream.</summary>
    public void ReadOnce(byte[] buffer, Action<OutputLine> emit)
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

        if (_partial.Length > 0)
        {
            // A line began in an earlier read: it goes on in this one.
            _partial.Write(data);
            var held = _partial.GetBuffer().AsSpan(0, (int)_partial.Length);
            var rest = EmitLines(held, emit);
            rest.CopyTo(held); // (to the front: it never overlaps forward)
            _partial.SetLength(rest.Length);
        }
        else
        {
            _partial.Write(EmitLines(data, emit));
        }
    }

    /// <summary>Hands on every line <paramref name="data"/> holds; returns what is left (the start of a line, never over the limit).</summary>
    private ReadOnlySpan<byte> EmitLines(ReadOnlySpan<byte> data, Action<OutputLine> emit)
    {
        int length;
        while ((length = LineCuts.Next(data, long.MaxValue, atEnd: false)) > 0)
        {
            var line = data[..length];
            emit(line[^1] == (byte)'\n'
                ? OutputLine.FromBytes(stream, line[..^1], LineEnd.Newline)
                : OutputLine.FromBytes(stream, line, LineEnd.Cut));
            data = data[length..];
        }

        return data;
    }
}
