using System.Buffers;
using System.Text;

namespace Goq.Output;

/// <summary>
/// Reads one page of a job's output file: whole lines from a byte offset, until a line count, a byte budget (the
/// page's JSON, bounded above) or the job's recorded end. It reads forward in large blocks and never rescans what came
/// before, so reading a whole file page by page costs its length, not its square.
/// </summary>
internal static class OutputPageReader
{
    private const int BlockBytes = 256 * 1024;
    private const int MinBlockBytes = 4096;

    // Bytes that JSON carries as they are; every other byte is counted as its longest escape (\uXXXX).
    private static readonly SearchValues<byte> PlainJson = SearchValues.Create(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%()*,-./:;=?@[]^_{|}~"u8);

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <param name="path">The output file.</param>
    /// <param name="offset">Where line <paramref name="line"/> starts in the file.</param>
    /// <param name="line">The number of the line at <paramref name="offset"/>.</param>
    /// <param name="endLine">Lines past this one are not the job's (or not yet recorded): never read.</param>
    /// <param name="maxLines">The most lines in the page.</param>
    /// <param name="maxBytes">The page's budget: a page always holds at least one line, then stops before exceeding it.</param>
    /// <param name="streams">Which stream each line came from, read forward with the lines.</param>
    /// <param name="breaks">Where lines end without a newline (see <see cref="LineCuts"/>).</param>
    public static OutputPage Read(string path, long offset, long line, long endLine, int maxLines, long maxBytes, StreamRuns.Cursor streams, LineBreaks breaks)
    {
        using var file = Platform.NoFollow.OpenRead(path); // never waits on a FIFO put in the file's place
        file.Seek(offset, SeekOrigin.Begin);
        // Pooled, and no larger than what is left of the file: most outputs are a few lines, and a fresh block of a
        // quarter of a megabyte for each (zeroed, on the large-object heap) cost more than reading them.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(file.Length - offset + 1, MinBlockBytes, BlockBytes));
        try
        {
            var reader = new Lines(file, buffer, offset, breaks);
            var lines = new List<OutputLine>();
            long budget = 0;
            while (line < endLine && lines.Count < maxLines && reader.Next() is { IsEmpty: false } unit)
            {
                var text = TextOf(unit);
                var cost = JsonBound(text);
                if (lines.Count > 0 && budget + cost > maxBytes)
                {
                    break;
                }

                budget += cost;
                lines.Add(new OutputLine(streams.Next(), Utf8.GetString(text)));
                reader.Take(unit.Length);
                line++;
            }

            reader.Dispose();
            return new OutputPage(lines, line, reader.Offset);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A line as text: without its newline, and without the CR of a CRLF ending. A file keeps the job's bytes as they
    /// were; the text is the reader's business.
    /// </summary>
    private static ReadOnlySpan<byte> TextOf(ReadOnlySpan<byte> unit)
    {
        if (unit.IsEmpty || unit[^1] != (byte)'\n')
        {
            return unit;
        }

        var text = unit[..^1];
        return text.Length > 0 && text[^1] == (byte)'\r' ? text[..^1] : text;
    }

    /// <summary>
    /// The lines of a file from an offset, one at a time, as <see cref="LineCuts"/> cuts them: read forward in blocks,
    /// a line never longer than the limit, so the buffer never grows past twice it.
    /// </summary>
    private ref struct Lines(FileStream file, byte[] first, long offset, LineBreaks breaks)
    {
        private readonly byte[] _first = first;
        private byte[] _buffer = first;
        private int _filled;
        private int _start;
        private bool _eof;

        public long Offset { get; private set; } = offset;

        /// <summary>The next line's bytes (valid until <see cref="Take"/>), or an empty span at the end of the file.</summary>
        public ReadOnlySpan<byte> Next()
        {
            while (true)
            {
                var length = LineCuts.Next(_buffer.AsSpan(_start, _filled - _start), breaks.DistanceAfter(Offset), _eof);
                if (length > 0 || _eof)
                {
                    return _buffer.AsSpan(_start, length);
                }

                // Keep the partial line, and make room for the rest of it.
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _filled - _start);
                    _filled -= _start;
                    _start = 0;
                }

                if (_filled == _buffer.Length)
                {
                    _buffer = Grow(_buffer, _filled, _first);
                }

                var read = file.Read(_buffer, _filled, _buffer.Length - _filled);
                _eof = read == 0;
                _filled += read;
            }
        }

        public void Take(int length)
        {
            _start += length;
            Offset += length;
        }

        public readonly void Dispose()
        {
            if (_buffer != _first)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }
        }
    }

    /// <summary>A pooled buffer twice as large holding the first <paramref name="filled"/> bytes; the old one goes back unless it is the caller's.</summary>
    private static byte[] Grow(byte[] buffer, int filled, byte[] callers)
    {
        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        Buffer.BlockCopy(buffer, 0, larger, 0, filled);
        if (buffer != callers)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return larger;
    }

    /// <summary>The offset just past <paramref name="lines"/> more lines from <paramref name="offset"/> (or the file's end).</summary>
    public static long Skip(string path, long offset, long lines, LineBreaks breaks)
    {
        if (lines <= 0)
        {
            return offset;
        }

        using var file = Platform.NoFollow.OpenRead(path); // never waits on a FIFO put in the file's place
        file.Seek(offset, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(BlockBytes);
        try
        {
            var reader = new Lines(file, buffer, offset, breaks);
            while (lines-- > 0 && reader.Next() is { IsEmpty: false } unit)
            {
                reader.Take(unit.Length);
            }

            reader.Dispose();
            return reader.Offset;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Never less than the line's size in a JSON message: plain bytes as one, every other byte as six.</summary>
    public static long JsonBound(ReadOnlySpan<byte> text)
    {
        long bound = 32; // the line's own quotes, stream and separators
        while (!text.IsEmpty)
        {
            var special = text.IndexOfAnyExcept(PlainJson);
            if (special < 0)
            {
                return bound + text.Length;
            }

            bound += special + 6;
            text = text[(special + 1)..];
        }

        return bound;
    }
}
