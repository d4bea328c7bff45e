namespace Goq.Protocol;

/// <summary>
/// Worker → server: a job handed to me ahead of a free slot that I give back unstarted, because no slot freed in time
/// (its work may start sooner elsewhere) or because I am exiting. The server puts it back in its place in the queue
/// with the attempt given back. Never sent for a job that started.
/// </summary>
public sealed record JobReturned(string WorkerId, long JobId, int Attempt) : WorkerReport;
