namespace Goq.Worker;

/// <summary>A worker's job ledger as read back: the worker, and its jobs started and not ended (job id to attempt).</summary>
internal sealed record LedgerContent(string WorkerId, int WorkerPid, long WorkerStart, Dictionary<long, int> Jobs);
