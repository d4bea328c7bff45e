namespace Goq.Storage;

/// <summary>
/// The submit batch ids a server remembers, so a batch sent again is answered with the jobs made the first time. A
/// client retries within seconds (a setting, 30 s by default), so a day's worth, at most <see cref="MaxRemembered"/>
/// ids, oldest forgotten first, bounds the memory (~100 bytes an id) while leaving retries far inside the window.
/// </summary>
internal sealed class BatchMemory
{
    public const int MaxRemembered = 100_000;

    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    private readonly Dictionary<string, (long FirstId, int Count)> _batches = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public void Remember(string batchId, long firstId, int count)
    {
        if (_batches.TryAdd(batchId, (firstId, count)))
        {
            _order.Enqueue(batchId);
        }

        while (_order.Count > MaxRemembered)
        {
            _batches.Remove(_order.Dequeue());
        }
    }

    public (long FirstId, int Count)? Find(string batchId) => _batches.TryGetValue(batchId, out var batch) ? batch : null;
}
