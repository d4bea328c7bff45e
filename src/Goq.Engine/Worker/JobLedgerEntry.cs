namespace Goq.Worker;

/// <summary>One job in a worker's ledger: its id, its group leader's pid and that process's start time.</summary>
public sealed record JobLedgerEntry(long JobId, int Pid, long Start);
