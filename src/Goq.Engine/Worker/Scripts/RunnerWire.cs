using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Goq.Protocol;

namespace Goq.Worker;

/// <summary>
/// Frames on the channel between a worker and a script runner (a socket pair, the runner's descriptor 3): a 4-byte
/// little-endian length, a <see cref="RunnerFrame"/> byte, the payload. Both ends are ours and on one host, so there is
/// no signing; the length is still bounded, so a broken runner cannot make the worker allocate without limit.
/// </summary>
public static class RunnerWire
{
    /// <summary>A job's spec is at most 4 MiB of JSON; a line at most 1 MiB of UTF-8 (runners cut records into pieces).</summary>
    public const int MaxFrameBytes = 16 * 1024 * 1024;

    /// <summary>Longest record piece, in characters: well inside a frame and inside a worker's output chunk.</summary>
    public const int MaxPieceChars = 256 * 1024;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static byte[] Encode(RunnerFrame kind, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length + 1);
        frame[4] = (byte)kind;
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    public static byte[] Job(RunnerJob job) => Encode(RunnerFrame.Job, JsonSerializer.SerializeToUtf8Bytes(job, WorkerJsonContext.Default.RunnerJob));

    public static byte[] End(RunnerEnd end) => Encode(RunnerFrame.End, JsonSerializer.SerializeToUtf8Bytes(end, WorkerJsonContext.Default.RunnerEnd));

    public static byte[] Line(OutputStream stream, string text)
    {
        var frame = new byte[6 + Utf8.GetByteCount(text)];
        BinaryPrimitives.WriteInt32LittleEndian(frame, frame.Length - 4);
        frame[4] = (byte)RunnerFrame.Line;
        frame[5] = (byte)stream;
        Utf8.GetBytes(text, frame.AsSpan(6));
        return frame;
    }

    public static RunnerJob ReadJob(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize(payload, WorkerJsonContext.Default.RunnerJob) ?? throw new InvalidDataException("empty job frame");

    public static RunnerEnd ReadEnd(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize(payload, WorkerJsonContext.Default.RunnerEnd) ?? throw new InvalidDataException("empty end frame");

    public static OutputLine ReadLine(ReadOnlySpan<byte> payload) =>
        payload.Length == 0 || payload[0] is not (1 or 2 or 3)
            ? throw new InvalidDataException("a line frame without a valid stream")
            : new OutputLine((OutputStream)payload[0], Utf8.GetString(payload[1..]));

    /// <summary>The next frame, or null at the end of the stream.</summary>
    public static async Task<(RunnerFrame Kind, byte[] Payload)?> ReadAsync(Stream stream, CancellationToken cancel = default)
    {
        var header = new byte[5];
        if (!await FillAsync(stream, header, cancel).ConfigureAwait(false))
        {
            return null;
        }

        var payload = new byte[CheckLength(header) - 1];
        return await FillAsync(stream, payload, cancel).ConfigureAwait(false) ? ((RunnerFrame)header[4], payload) : throw new EndOfStreamException("a frame cut short");
    }

    /// <summary>The next frame, or null at the end of the stream (blocking; for the runner's one thread).</summary>
    public static (RunnerFrame Kind, byte[] Payload)? Read(Stream stream)
    {
        var header = new byte[5];
        if (!Fill(stream, header))
        {
            return null;
        }

        var payload = new byte[CheckLength(header) - 1];
        return Fill(stream, payload) ? ((RunnerFrame)header[4], payload) : throw new EndOfStreamException("a frame cut short");
    }

    private static int CheckLength(byte[] header)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        return length is < 1 or > MaxFrameBytes ? throw new InvalidDataException($"a frame of {length} bytes") : length;
    }

    private static async Task<bool> FillAsync(Stream stream, byte[] buffer, CancellationToken cancel)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancel).ConfigureAwait(false);
            if (n == 0)
            {
                return read == 0 && buffer.Length > 0 ? false : throw new EndOfStreamException("a frame cut short");
            }

            read += n;
        }

        return true;
    }

    private static bool Fill(Stream stream, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer.AsSpan(read));
            if (n == 0)
            {
                return read == 0 && buffer.Length > 0 ? false : throw new EndOfStreamException("a frame cut short");
            }

            read += n;
        }

        return true;
    }
}
