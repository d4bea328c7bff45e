using System.Globalization;

namespace Goq.Cmdlets;

/// <summary>
/// The one batch a Submit-GoqJob pipeline has sent and not yet written out, and what the user is told about it when
/// Ctrl+C stops the pipeline. The server may already have queued it, but a stopped pipeline takes no more objects:
/// the batch's answer is awaited for a short grace (its send is cancelled only then), and a warning names the jobs
/// queued but not written, so the client's count and the server's agree.
/// </summary>
internal sealed class InFlightBatch(Task<IReadOnlyList<JobInfo>> answer, int count)
{
    /// <summary>How long a stopped pipeline waits for the answer of its batch in flight.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    public Task<IReadOnlyList<JobInfo>> Answer => answer;

    /// <summary>
    /// The warning for a pipeline stopped with this batch unwritten. Waits for its answer, which comes within
    /// <see cref="StopGrace"/> of Ctrl+C (the send is cancelled then).
    /// </summary>
    public string StoppedWarning()
    {
        ((IAsyncResult)answer).AsyncWaitHandle.WaitOne();
        if (answer.IsCompletedSuccessfully)
        {
            return UnwrittenWarning(answer.Result.Select(j => j.Id).ToList());
        }

        return answer.IsCanceled
            ? $"stopped: a batch of {count:N0} jobs was sent but the server did not answer within {StopGrace.TotalSeconds:N0} s; it may have queued them (Get-GoqJob lists the queue)"
            : $"stopped: a batch of {count:N0} jobs was sent and failed: {answer.Exception?.InnerException?.Message}";
    }

    /// <summary>The warning for jobs the server queued that a stopped pipeline could not take.</summary>
    public static string UnwrittenWarning(IReadOnlyList<long> ids, bool firstMayBeWritten = false) =>
        $"stopped: the server queued {ids.Count:N0} more jobs that were not written to the pipeline{(firstMayBeWritten ? $" (job {ids[0]} perhaps was, as the pipeline stopped)" : "")}: ids {IdRanges(ids)}";

    /// <summary>Ids as ranges of consecutive ids: "27001-28000, 28005".</summary>
    internal static string IdRanges(IEnumerable<long> ids)
    {
        var parts = new List<string>();
        long? start = null, end = null;
        foreach (var id in ids.Order())
        {
            if (end is { } e && id == e + 1)
            {
                end = id;
                continue;
            }

            Close();
            start = end = id;
        }

        Close();
        return string.Join(", ", parts);

        void Close()
        {
            if (start is { } s && end is { } e)
            {
                parts.Add(s == e ? s.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{s}-{e}"));
            }
        }
    }
}
