namespace Goq.Output;

/// <summary>
/// Where a job's output file is cut into lines: the one rule its writers (the worker that writes the file, the worker
/// that sends lines to the server) and its readers (pages, the local reader, skips) share. The file holds the job's
/// bytes exactly as written: nothing is ever put into it to mark a line. A line ends
/// <list type="bullet">
/// <item>after a newline;</item>
/// <item>at a <em>break</em>, an offset the index records: the last bytes of a stream that ended without a newline (what
///   the other stream writes next starts a line of its own), the last line of an attempt, and a line of goq's own
///   after either;</item>
/// <item>by length: a line longer than <see cref="MaxBytes"/> is read as pieces of at most that many bytes, cut before
///   a UTF-8 continuation byte (so each piece is whole characters). The cut is found from the bytes alone, so every
///   reader cuts where the writer counted, without the pieces being marked in the file.</item>
/// </list>
/// </summary>
public static class LineCuts
{
    /// <summary>The longest line read as one; a longer one is read as pieces.</summary>
    public const int MaxBytes = 32 * 1024;

    /// <summary>
    /// The length of the line that starts <paramref name="data"/> (with its newline, when it has one), or 0 when more
    /// bytes are needed to know. <paramref name="toBreak"/> is how far the next recorded break is (long.MaxValue for
    /// none); <paramref name="atEnd"/> says nothing follows <paramref name="data"/>, so what is left is a line.
    /// </summary>
    public static int Next(ReadOnlySpan<byte> data, long toBreak, bool atEnd)
    {
        var scan = data.Length > MaxBytes ? data[..(MaxBytes + 1)] : data;
        var newline = scan.IndexOf((byte)'\n');
        if (newline >= 0)
        {
            return (int)Math.Min(newline + 1, toBreak);
        }

        if (toBreak <= MaxBytes && toBreak <= data.Length)
        {
            return (int)toBreak;
        }

        if (data.Length > MaxBytes)
        {
            return Boundary(data);
        }

        return atEnd ? data.Length : 0;
    }

    /// <summary>Where a line longer than <see cref="MaxBytes"/> is cut: at the limit, moved back off a UTF-8 continuation byte.</summary>
    public static int Boundary(ReadOnlySpan<byte> line)
    {
        var cut = MaxBytes;
        while (cut > MaxBytes - 4 && (line[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return cut;
    }

    /// <summary>Whether <paramref name="data"/> has more than <see cref="MaxBytes"/> bytes without a newline anywhere.</summary>
    public static bool HasLongLine(ReadOnlySpan<byte> data)
    {
        if (data.Length <= MaxBytes)
        {
            return false;
        }

        int next;
        while ((next = data.IndexOf((byte)'\n')) >= 0)
        {
            if (next > MaxBytes)
            {
                return true;
            }

            data = data[(next + 1)..];
        }

        return data.Length > MaxBytes;
    }

    /// <summary>How many lines <paramref name="data"/> holds when no break falls inside it, the last ended by a newline or by length.</summary>
    public static long Count(ReadOnlySpan<byte> data)
    {
        if (!HasLongLine(data))
        {
            return data.Count((byte)'\n') + (data.IsEmpty || data[^1] == (byte)'\n' ? 0 : 1);
        }

        long count = 0;
        while (!data.IsEmpty)
        {
            var length = Next(data, long.MaxValue, atEnd: true);
            data = data[length..];
            count++;
        }

        return count;
    }
}

/// <summary>The breaks of one job's output (<see cref="OutputIndex.Breaks"/>, counted from <paramref name="origin"/>, the job's first byte), sorted.</summary>
public readonly struct LineBreaks(IReadOnlyList<long>? relative, long origin)
{
    public static LineBreaks None => new(null, 0);

    /// <summary>How far from <paramref name="offset"/> (a file offset) the first break after it is, or long.MaxValue.</summary>
    public long DistanceAfter(long offset)
    {
        if (relative is not { Count: > 0 } list)
        {
            return long.MaxValue;
        }

        var at = offset - origin;
        int low = 0, high = list.Count; // the first break past 'at'
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (list[mid] <= at)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low < list.Count ? list[low] - at : long.MaxValue;
    }
}
