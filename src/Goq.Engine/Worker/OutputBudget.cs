namespace Goq.Worker;

/// <summary>
/// How much job output a worker holds that the server has not acknowledged yet, per job and for the whole worker.
/// Past either limit the job's pipes are not read (see <see cref="JobIoLoop"/>), so its pipe fills and its writes wait:
/// a job that writes faster than the server stores is slowed, and the worker's memory stays bounded whatever its jobs
/// write. Lines are costed as the memory they take (UTF-16 text plus the object around it). Thread-safe: taken by the
/// I/O thread, given back by the socket thread as the server acknowledges lines.
/// </summary>
internal sealed class OutputBudget(long limit, OutputBudget? shared = null)
{
    private const int LineOverhead = 48;
    private long _used;

    /// <summary>The worker's own budget, shared by its jobs.</summary>
    public static OutputBudget ForWorker(long limit) => new(limit);

    public long Used => Volatile.Read(ref _used);

    /// <summary>True while the job (or the worker as a whole) holds as much unacknowledged output as it may.</summary>
    public bool IsFull => Volatile.Read(ref _used) >= limit || (shared?.IsFull ?? false);

    public static long CostOf(OutputLine line) => LineOverhead + (2L * line.Text.Length) + (line.Raw?.Length ?? 0);

    public void Take(long cost)
    {
        Interlocked.Add(ref _used, cost);
        shared?.Take(cost);
    }

    /// <summary>Gives back acknowledged lines; when that ends a hold, the I/O loop is woken to read again.</summary>
    public void Give(long cost)
    {
        var wasFull = IsFull;
        Interlocked.Add(ref _used, -cost);
        shared?.Give(cost);
        if (wasFull && !IsFull)
        {
            JobIoLoop.Shared.Wake();
        }
    }
}
