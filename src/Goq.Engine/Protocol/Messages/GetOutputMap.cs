namespace Goq.Protocol;

/// <summary>
/// Client → server: where a job's output is and what of it is recorded, so a client that sees the same file (the
/// job's working directory, on a shared file system or this host) reads it there instead of through the server.
/// Replied to with <see cref="OutputMapReply"/>. With <paramref name="Records"/>, the map of a script-block job's
/// records file instead.
/// </summary>
public sealed record GetOutputMap(long JobId, bool Records = false) : ClientRequest;
