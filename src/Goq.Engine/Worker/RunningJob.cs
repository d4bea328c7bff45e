using System.Collections.Concurrent;

namespace Goq.Worker;

/// <summary>A job a worker is running: its lease, its kill switch and the output not yet sent.</summary>
internal sealed class RunningJob(long jobId, int attempt, OutputBudget budget)
{
    /// <summary>The output this job holds that the server has not acknowledged (see <see cref="OutputBudget"/>).</summary>
    public OutputBudget Budget { get; } = budget;

    public long JobId { get; } = jobId;

    public int Attempt { get; } = attempt;

    /// <summary>The worker's slots it takes (-SlotCount).</summary>
    public int SlotCount { get; init; } = 1;

    public CancellationTokenSource Cancel { get; } = new();

    private string? _cancelledBecause;

    /// <summary>
    /// Why <see cref="Cancel"/> was cancelled when it was not the user's Stop-GoqJob (its worker stopped): set on the
    /// socket thread before cancelling, read by the runner's thread after.
    /// </summary>
    public string? CancelledBecause
    {
        get => Volatile.Read(ref _cancelledBecause);
        set => Volatile.Write(ref _cancelledBecause, value);
    }

    private Start? _started;

    /// <summary>Set by the runner's thread when the process starts; read by the socket thread (a reference, so never torn).</summary>
    public Start? Started
    {
        get => Volatile.Read(ref _started);
        set => Volatile.Write(ref _started, value);
    }

    /// <summary>Whether the start was sent on its own (socket thread only).</summary>
    public bool StartReported { get; set; }

    /// <summary>Filled by the runner's reader, drained by the worker's socket thread.</summary>
    public ConcurrentQueue<OutputLine> Pending { get; } = new();

    private long _pendingCost; // the reader's thread only
    private int _flushQueued;

    /// <summary>
    /// Called by the reader for each line it queues: true (once, until <see cref="FlushTaken"/>) when the lines queued
    /// since the last request cost <paramref name="flushAt"/> or the job's budget is full, so they should be sent now.
    /// </summary>
    public bool ReadyToSend(long cost, long flushAt)
    {
        _pendingCost += cost;
        if ((_pendingCost < flushAt && !Budget.IsFull) || Interlocked.Exchange(ref _flushQueued, 1) != 0)
        {
            return false;
        }

        _pendingCost = 0;
        return true;
    }

    /// <summary>The socket thread is about to take the pending lines: the reader may ask again.</summary>
    public void FlushTaken() => Volatile.Write(ref _flushQueued, 0);

    /// <summary>Lines sent but not yet acknowledged by the server (socket thread only); sent again on each heartbeat.</summary>
    public List<OutputLine> Unacked { get; } = [];

    /// <summary>How many lines of this attempt the server has acknowledged (socket thread only).</summary>
    public long AckedLines { get; set; }

    public long SentLines => AckedLines + Unacked.Count;

    /// <summary>The job's output file when this worker writes it itself (see <see cref="JobOutputFile"/>), else null.</summary>
    public JobOutputFile? File { get; init; }

    /// <summary>Its output goes to its file (the file opened, or nothing written yet), not to the server as lines.</summary>
    public bool WritesFile => File is { Direct: true };

    /// <summary>A sync of its file runs (socket thread only): the next waits for the flush tick after it.</summary>
    public bool Syncing { get; set; }

    /// <summary>The lines of this attempt: in the file when it writes one, else sent to the server.</summary>
    public long TotalLines => WritesFile ? File!.SyncedLines : SentLines;

    public sealed record Start(int Pid, DateTimeOffset At);
}
