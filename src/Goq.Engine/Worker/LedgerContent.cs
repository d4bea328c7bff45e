using Goq.Protocol;

namespace Goq.Worker;

/// <summary>
/// A worker's job ledger as read back: the worker; its jobs started and not ended (job id to attempt), with the pid each
/// was spawned as where it is known; and the ends it recorded that the server has not acknowledged.
/// </summary>
internal sealed record LedgerContent(string WorkerId, int WorkerPid, long WorkerStart, Dictionary<long, int> Jobs,
    Dictionary<long, int>? Pids = null, IReadOnlyList<JobFinished>? Unreported = null);
