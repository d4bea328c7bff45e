using Goq.Timing;
using Goq.Errors;

namespace Goq.Client;

/// <summary>
/// Submits batches so that a server restart costs nothing: each batch carries an id of its own, and a batch whose
/// answer did not come (the server died before or after storing it) is sent again, with the same id, on a fresh
/// connection, until <see cref="RetryFor"/> has passed. The server answers a batch it already stored with the same
/// jobs, so a batch is queued once however often it is sent.
/// The window is for a server that went away: it opens once the server has answered a batch of this submitter's. A
/// first contact that gets no answer fails at once (after the request's own time-out, GOQ_CONNECT_TIMEOUT_SEC), and
/// <paramref name="firstContact"/> (a probe that throws when a local server does not run) is asked before it.
/// With several servers (<paramref name="severalServers"/>) the window is open from the start: a server that does not
/// answer may be one a standby is taking over from, and the batch, sent again under its id, is queued once.
/// </summary>
/// <param name="connect">A usable client: called for every attempt, so a connection broken by a timeout is replaced.</param>
public sealed class RetryingSubmitter(Func<GoqClient> connect, TimeSpan retryFor, Action<string>? onRetry = null, Action? firstContact = null,
    bool severalServers = false)
{
    // Set once a batch was answered (by the thread of the batch in flight; one batch is in flight at a time).
    private volatile bool _answered = severalServers;

    public TimeSpan RetryFor { get; } = retryFor;

    /// <summary>Whether the server has answered this submitter: from then on, a batch it does not answer is sent again.</summary>
    public bool ServerAnswered => _answered;

    public static string NewBatchId() => Guid.NewGuid().ToString("N");

    public async Task<IReadOnlyList<JobInfo>> SubmitAsync(IReadOnlyList<JobSpec> jobs, string batchId, CancellationToken cancel)
    {
        if (!_answered)
        {
            firstContact?.Invoke();
        }

        var deadline = Deadline.In(RetryFor);
        var attempt = 1;
        while (true)
        {
            try
            {
                var submitted = await connect().SubmitAsync(jobs, cancel, batchId).ConfigureAwait(false);
                _answered = true;
                return submitted;
            }
            catch (GoqException ex) when (ex.ErrorId == GoqErrorIds.ServerUnreachable && !_answered)
            {
                // A first contact that got no answer: the request may have reached a server that stored the batch and
                // then could not answer (a slow disk, a crash). Say so, so nobody submits it twice without looking.
                throw new GoqException(ex.ErrorId, ex.Kind,
                    $"{ex.Message}. If the server did receive them, these {jobs.Count} jobs may be queued all the same: look with Get-GoqJob before submitting them again",
                    ex) { Target = ex.Target };
            }
            catch (GoqException ex) when (ex.ErrorId == GoqErrorIds.ServerUnreachable && _answered && !deadline.Passed)
            {
                // Guarantee point: the same batch id again, so a batch the server stored before it went away is not
                // stored twice.
                onRetry?.Invoke($"the server did not answer a batch of {jobs.Count} jobs (attempt {attempt}); sending it again");
                attempt++;
            }
        }
    }
}
