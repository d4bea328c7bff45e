namespace Goq.Protocol;

/// <summary>
/// Client → server: a job's recorded output as it is in its file, byte for byte, from <paramref name="Offset"/> (0 at
/// the job's first byte) on (Receive-GoqJob -AsByteStream). Replied to with <see cref="OutputBytesReply"/>.
/// </summary>
public sealed record ReadOutputBytes(long JobId, long Offset) : ClientRequest;

/// <summary>
/// Server → client: the bytes from the asked offset (at most a page); <paramref name="Complete"/> once the job has
/// ended and nothing follows.
/// </summary>
public sealed record OutputBytesReply(long JobId, byte[] Data, long NextOffset, bool Complete, JobState State) : GoqMessage;
