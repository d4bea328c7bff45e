using System.Runtime.InteropServices;
using System.Text;

namespace Goq.Worker;

/// <summary>
/// Reads a job's stdout and stderr pipes from one thread with poll(2), so lines are handed on in the order the job
/// wrote them. Two independent readers would race each other to report what they read; one poller only has to
/// choose when both pipes turn readable in the same instant, and then it takes stderr first (a program that writes
/// to both in quick succession usually reports the error before the result).
/// </summary>
internal static unsafe class PipePoller
{
    private const short Readable = LibC.PollIn | LibC.PollErr | LibC.PollHup | LibC.PollNval;

    /// <summary>
    /// Blocks until both pipes reach end of file and, when <paramref name="pidFd"/> is a pidfd (else -1), until it
    /// says the process exited (then <paramref name="onExit"/> runs). <paramref name="outputDone"/> completes at the
    /// end of the output, which may come before or after the exit.
    /// </summary>
    public static void Pump(int stdoutFd, int stderrFd, int pidFd, Action onExit, TaskCompletionSource outputDone, int maxLineChars,
        Action<OutputStream, string> emit)
    {
        var streams = new[]
        {
            new LineBuffer(OutputStream.Stderr, stderrFd, maxLineChars),
            new LineBuffer(OutputStream.Stdout, stdoutFd, maxLineChars),
        };
        var fds = stackalloc LibC.PollFd[3];
        var index = stackalloc int[3];
        var buffer = new byte[64 * 1024];
        var watchExit = pidFd >= 0;
        while (streams[0].Open || streams[1].Open || watchExit)
        {
            var count = 0;
            for (var i = 0; i < streams.Length; i++)
            {
                if (streams[i].Open)
                {
                    fds[count] = new LibC.PollFd { Fd = streams[i].Fd, Events = LibC.PollIn };
                    index[count++] = i;
                }
            }

            if (watchExit)
            {
                fds[count] = new LibC.PollFd { Fd = pidFd, Events = LibC.PollIn };
                index[count++] = -1;
            }

            if (LibC.poll(fds, (nuint)count, -1) < 0)
            {
                if (Marshal.GetLastPInvokeError() == LibC.Eintr)
                {
                    continue;
                }

                throw new IOException($"poll failed: errno {Marshal.GetLastPInvokeError()}");
            }

            for (var k = 0; k < count; k++)
            {
                if ((fds[k].Revents & Readable) == 0)
                {
                    continue;
                }

                if (index[k] < 0)
                {
                    watchExit = false;
                    onExit();
                    continue;
                }

                streams[index[k]].ReadOnce(buffer, emit);
                if (!streams[0].Open && !streams[1].Open)
                {
                    outputDone.TrySetResult();
                }
            }
        }

        outputDone.TrySetResult();
    }

    private sealed class LineBuffer(OutputStream stream, int fd, int maxLineChars)
    {
        private readonly MemoryStream _partial = new();
        private readonly int _maxLineBytes = maxLineChars;

        public int Fd { get; } = fd;

        public bool Open { get; private set; } = true;

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
                Open = false;
                if (_partial.Length > 0)
                {
                    Emit(_partial.GetBuffer().AsSpan(0, (int)_partial.Length), emit);
                    _partial.SetLength(0);
                }

                return;
            }

            var data = buffer.AsSpan(0, (int)n);
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
            while (_partial.Length > _maxLineBytes)
            {
                // A very long line is passed on in pieces (cut at a byte count; a split character shows as U+FFFD).
                var all = _partial.ToArray();
                Emit(all.AsSpan(0, _maxLineBytes), emit, trimCr: false);
                _partial.SetLength(0);
                _partial.Write(all.AsSpan(_maxLineBytes));
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
}
