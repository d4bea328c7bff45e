namespace Goq.Client;

/// <summary>
/// A place in one job's output, read through the server: each call reads what has come since the last, so a reader
/// that follows a running job and is then told of its end reads only the rest. Not thread-safe: one reader at a time.
/// </summary>
public sealed class OutputCursor(long jobId, bool records)
{
    private const int PageLines = 10_000;
    private long _nextLine;
    private long _nextOffset = -1;

    /// <summary>True once the job has ended and every line of it was read.</summary>
    public bool Complete { get; private set; }

    /// <summary>The host the job runs on, as the last page named it.</summary>
    public string? WorkerHost { get; private set; }

    /// <summary>True once any line was read (a reader that starts later cannot skip what this one took).</summary>
    public bool Started => _nextLine > 0;

    /// <summary>Reads every line that has come since the last call; returns how many. <paramref name="onLine"/> is told whether each is a record.</summary>
    public async Task<int> ReadNewAsync(GoqClient client, Action<OutputLine, bool> onLine, CancellationToken cancel = default)
    {
        var read = 0;
        while (!Complete)
        {
            var page = await client.ReadOutputAsync(jobId, _nextLine, PageLines, cancel, _nextOffset, records).ConfigureAwait(false);
            WorkerHost = page.WorkerHost ?? WorkerHost;
            foreach (var line in page.Lines)
            {
                onLine(line, page.Records);
            }

            read += page.Lines.Count;
            (_nextLine, _nextOffset) = (page.NextLine, page.NextOffset);
            Complete = page.Complete;
            if (page.Lines.Count == 0)
            {
                break;
            }
        }

        return read;
    }
}
