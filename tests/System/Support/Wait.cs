namespace Goq.SystemTests.Support;

/// <summary>Polls a condition every 50 ms until it holds or the deadline passes (never a fixed sleep).</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, int timeoutMs = 10_000, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met within {timeoutMs} ms: {what}");
            }

            await Task.Delay(50);
        }
    }

    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, int timeoutMs = 10_000, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met within {timeoutMs} ms: {what}");
            }

            await Task.Delay(50);
        }
    }
}
