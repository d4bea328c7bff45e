namespace Goq.Protocol;

/// <summary>
/// Carried by a dispatch to a worker on the server's own host (same machine, boot and mount namespace: it sees the very
/// files the server does): the worker writes the job's output to <paramref name="Path"/> itself, from byte
/// <paramref name="Start"/>, where the file must end when it opens it (else it sends lines to the server as any
/// other worker does).
/// </summary>
public sealed record OutputTarget(string Path, long Start);
