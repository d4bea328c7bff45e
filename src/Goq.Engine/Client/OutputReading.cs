using Goq.Output;

namespace Goq.Client;

/// <summary>All of a job's recorded output at once, for a caller that is not a pipeline (a GoqJob filling its streams).</summary>
public static class OutputReading
{
    private const int PageLines = 10_000;

    /// <summary>
    /// Reads a job's records (a script-block job) or its text lines, from the file when this host sees it, else page by
    /// page from the server. <paramref name="onLine"/> is told each line and whether it is a record. Returns the host the
    /// job ran on.
    /// </summary>
    public static async Task<string?> ReadAllOutputAsync(this GoqClient client, long jobId, Action<OutputLine, bool> onLine,
        CancellationToken cancel = default)
    {
        var map = await client.GetOutputMapAsync(jobId, cancel, records: true).ConfigureAwait(false);
        if (LocalOutputReader.Open(map) is { } local)
        {
            foreach (var page in local.Pages(PageLines))
            {
                cancel.ThrowIfCancellationRequested();
                foreach (var line in page)
                {
                    onLine(line, map.Records);
                }
            }

            return map.WorkerHost;
        }

        long next = 0, offset = -1;
        while (true)
        {
            var page = await client.ReadOutputAsync(jobId, next, PageLines, cancel, offset, records: map.Records).ConfigureAwait(false);
            foreach (var line in page.Lines)
            {
                onLine(line, page.Records);
            }

            if (page.Complete || page.Lines.Count == 0)
            {
                return map.WorkerHost ?? page.WorkerHost;
            }

            (next, offset) = (page.NextLine, page.NextOffset);
        }
    }
}
