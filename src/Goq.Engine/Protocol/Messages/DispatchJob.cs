namespace Goq.Protocol;

/// <summary>
/// Server → worker: run this job under lease <paramref name="Attempt"/>. <paramref name="Seq"/> numbers the
/// dispatches to this worker within server run <paramref name="Epoch"/>; the worker echoes the last one it got, which
/// tells the server which dispatches never arrived. <paramref name="Acks"/> acknowledges job ends this worker reported
/// (as <see cref="JobFinishedAck"/> would): a finished job's ack rides on the dispatch that refills its slot, one
/// message fewer per job. <paramref name="Output"/>, for a worker on the server's host, says where it writes the job's
/// output itself.
/// </summary>
public sealed record DispatchJob(long JobId, int Attempt, JobSpec Spec, long Seq = 0, string? Epoch = null, IReadOnlyList<RunningJobRef>? Acks = null,
    OutputTarget? Output = null)
    : GoqMessage;
