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
    public static OutputPage Read(string path, long offset, long line, long endLine, int maxLines, long maxBytes, StreamRuns.Cursor streams)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        file.Seek(offset, SeekOrigin.Begin);
        // Pooled, and no larger than what is left of the file: most outputs are a few lines, and a fresh block of a
        // quarter of a megabyte for each (zeroed, on the large-object heap) cost more than reading them.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(file.Length - offset + 1, MinBlockBytes, BlockBytes));
        try
        {
            return ReadLines(file, buffer, offset, line, endLine, maxLines, maxBytes, streams);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static OutputPage ReadLines(FileStream file, byte[] first, long offset, long line, long endLine, int maxLines, long maxBytes, StreamRuns.Cursor streams)
    {
        var lines = new List<OutputLine>();
        long budget = 0;
        var buffer = first;
        int filled = 0, start = 0;
        var eof = false;
        try
        {
            while (line < endLine && lines.Count < maxLines)
            {
                var newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n');
                if (newline < 0)
                {
                    if (eof)
                    {
                        // A last line without its newline (an unindexed file): take it whole, as the old reader did.
                        if (filled > start)
                        {
                            var rest = buffer.AsSpan(start, filled - start);
                            lines.Add(new OutputLine(streams.Next(), Utf8.GetString(WithoutCr(rest))));
                            offset += rest.Length;
                            line++;
                            start = filled;
                        }

                        break;
                    }

                    // Keep the partial line, and make room for the rest of it.
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                        filled -= start;
                        start = 0;
                    }

                    if (filled == buffer.Length)
                    {
                        buffer = Grow(buffer, filled, first);
                    }

                    var read = file.Read(buffer, filled, buffer.Length - filled);
                    eof = read == 0;
                    filled += read;
                    continue;
                }

                var text = WithoutCr(buffer.AsSpan(start, newline));
                var cost = JsonBound(text);
                if (lines.Count > 0 && budget + cost > maxBytes)
                {
                    break;
                }

                budget += cost;
                lines.Add(new OutputLine(streams.Next(), Utf8.GetString(text)));
                offset += newline + 1;
                start += newline + 1;
                line++;
            }
        }
        finally
        {
            if (buffer != first)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return new OutputPage(lines, line, offset);
    }

    /// <summary>
    /// A line as text: without the CR of a CRLF ending. A file a worker wrote keeps the job's bytes as they were (the
    /// server's own writes dropped the CR); readers get the same lines from both.
    /// </summary>
    private static ReadOnlySpan<byte> WithoutCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

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
    public static long Skip(string path, long offset, long lines)
    {
        if (lines <= 0)
        {
            return offset;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        file.Seek(offset, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(BlockBytes);
        try
        {
            return SkipLines(file, buffer, offset, lines);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static long SkipLines(FileStream file, byte[] buffer, long offset, long lines)
    {
        int read;
        while ((read = file.Read(buffer, 0, buffer.Length)) > 0)
        {
            var block = buffer.AsSpan(0, read);
            int newline;
            while ((newline = block.IndexOf((byte)'\n')) >= 0)
            {
                offset += newline + 1;
                block = block[(newline + 1)..];
                if (--lines == 0)
                {
                    return offset;
                }
            }

            offset += block.Length;
        }

        return offset;
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
