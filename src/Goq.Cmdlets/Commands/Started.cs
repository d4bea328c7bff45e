namespace Goq.Cmdlets.Commands;

/// <summary>Waits for a foreground host to announce itself, or for it to fail before it could.</summary>
internal static class Started
{
    public static async Task<T> WhenStartedAsync<T>(Task run, Task<T> started)
    {
        await Task.WhenAny(run, started).ConfigureAwait(false);
        if (!started.IsCompleted)
        {
            await run.ConfigureAwait(false);
        }

        return await started.ConfigureAwait(false);
    }
}
