namespace Goq.Worker;

/// <summary>What a worker's job ledger holds: the worker (pid and start time) and its jobs' group leaders.</summary>
public sealed record JobLedgerFile(int WorkerPid, long WorkerStart, IReadOnlyList<JobLedgerEntry> Jobs);
