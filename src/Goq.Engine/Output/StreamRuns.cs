namespace Goq.Output;

/// <summary>Which stream each line of a job's output came from, as runs of one stream, read forward by a cursor.</summary>
internal static class StreamRuns
{
    /// <summary>Runs from their stored form: alternating run lengths, starting with stdout (see <see cref="OutputIndex"/>).</summary>
    public static List<(OutputStream Stream, long Count)> FromAlternating(IReadOnlyList<long> counts)
    {
        var runs = new List<(OutputStream, long)>();
        var stream = OutputStream.Stdout;
        foreach (var count in counts)
        {
            if (count > 0)
            {
                runs.Add((stream, count));
            }

            stream = stream == OutputStream.Stdout ? OutputStream.Stderr : OutputStream.Stdout;
        }

        return runs;
    }

    /// <summary>Counts <paramref name="count"/> more lines of <paramref name="stream"/>, joining the last run when it is the same stream.</summary>
    public static void Add(List<(OutputStream Stream, long Count)> runs, OutputStream stream, long count)
    {
        if (count <= 0)
        {
            return;
        }

        if (runs.Count > 0 && runs[^1].Stream == stream)
        {
            runs[^1] = (stream, runs[^1].Count + count);
        }
        else
        {
            runs.Add((stream, count));
        }
    }

    /// <summary>Runs in their stored form (alternating lengths, starting with stdout), the first <paramref name="lines"/> lines only.</summary>
    public static List<long> ToAlternating(IEnumerable<(OutputStream Stream, long Count)> runs, long lines = long.MaxValue)
    {
        var counts = new List<long>();
        var expect = OutputStream.Stdout;
        foreach (var (stream, count) in runs)
        {
            if (lines <= 0)
            {
                break;
            }

            if (stream != expect)
            {
                counts.Add(0);
                expect = stream;
            }

            var take = Math.Min(count, lines);
            counts.Add(take);
            lines -= take;
            expect = expect == OutputStream.Stdout ? OutputStream.Stderr : OutputStream.Stdout;
        }

        return counts;
    }

    /// <summary>A cursor at line <paramref name="line"/>; lines past the last run are stdout (an unindexed file).</summary>
    public static Cursor At(IReadOnlyList<(OutputStream Stream, long Count)> runs, long line)
    {
        var run = 0;
        while (run < runs.Count && line >= runs[run].Count)
        {
            line -= runs[run].Count;
            run++;
        }

        return new Cursor(runs, run, line);
    }

    public sealed class Cursor(IReadOnlyList<(OutputStream Stream, long Count)> runs, int run, long within)
    {
        private int _run = run;
        private long _within = within;

        /// <summary>The stream of the line under the cursor; then moves to the next line.</summary>
        public OutputStream Next()
        {
            if (_run >= runs.Count)
            {
                return OutputStream.Stdout;
            }

            var stream = runs[_run].Stream;
            if (++_within >= runs[_run].Count)
            {
                _run++;
                _within = 0;
            }

            return stream;
        }
    }
}
