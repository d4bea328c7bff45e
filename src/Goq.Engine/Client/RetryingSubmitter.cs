using Goq.Errors;

namespace Goq.Client;

/// <summary>
/// Submits batches so that a server restart costs nothing: each batch carries an id of its own, and a batch whose
/// answer did not come (the server died before or after storing it) is sent again, with the same id, on a fresh
/// connection, until <see cref="RetryFor"/> has passed. The server answers a batch it already stored with the same
/// jobs, so a batch is queued once however often it is sent.
/// </summary>
/// <param name="connect">A usable client: called for every attempt, so a connection broken by a timeout is replaced.</param>
public sealed class RetryingSubmitter(Func<GoqClient> connect, TimeSpan retryFor, Action<string>? onRetry = null)
{
    public TimeSpan RetryFor { get; } = retryFor;

    public static string NewBatchId() => Guid.NewGuid().ToString("N");

    public async Task<IReadOnlyList<JobInfo>> SubmitAsync(IReadOnlyList<JobSpec> jobs, string batchId, CancellationToken cancel)
    {
        var deadline = DateTimeOffset.UtcNow + RetryFor;
        var attempt = 1;
        while (true)
        {
            try
            {
                return await connect().SubmitAsync(jobs, cancel, batchId).ConfigureAwait(false);
            }
            catch (GoqException ex) when (ex.ErrorId == GoqErrorIds.ServerUnreachable && DateTimeOffset.UtcNow < deadline)
            {
                // Guarantee point: the same batch id again, so a batch the server stored before it went away is not
                // stored twice.
                onRetry?.Invoke($"the server did not answer a batch of {jobs.Count} jobs (attempt {attempt}); sending it again");
                attempt++;
            }
        }
    }
}
