namespace Goq.Client;

/// <summary>Remove-Job -Force for Goq jobs, built from the client's cancel, wait and remove requests.</summary>
public static class ForcedRemoval
{
    /// <summary>
    /// Removes jobs whatever their state: unfinished ones are cancelled first, and removed once they have ended (a
    /// running job's process tree takes a moment to die).
    /// </summary>
    public static async Task<Protocol.RemoveJobsReply> RemoveForcedAsync(this GoqClient client, IReadOnlyList<long> ids, CancellationToken cancel = default)
    {
        var cancelled = await client.CancelAsync(ids, cancel).ConfigureAwait(false);
        if (cancelled.Cancelled.Count > 0)
        {
            await client.WaitAsync([.. cancelled.Cancelled.Select(j => j.Id)], any: false, timeout: TimeSpan.FromSeconds(60), _ => { }, cancel).ConfigureAwait(false);
        }

        return await client.RemoveAsync(ids, null, cancel).ConfigureAwait(false);
    }
}
