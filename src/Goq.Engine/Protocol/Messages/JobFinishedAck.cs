namespace Goq.Protocol;

/// <summary>
/// Server → worker: your report that this job ended is stored (or was stale and ignored); stop re-sending it.
/// Until a worker gets this, it re-sends the report with every heartbeat, so a report lost with a crashed server
/// reaches the restarted one and the job is not run again.
/// </summary>
public sealed record JobFinishedAck(long JobId, int Attempt) : GoqMessage;
