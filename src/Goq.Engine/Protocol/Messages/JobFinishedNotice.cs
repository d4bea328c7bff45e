namespace Goq.Protocol;

/// <summary>
/// Server → client: watched jobs ended. Carries the watch's request id in the envelope. Ends that come close together
/// travel in one notice (see Server.NoticeBatcher), so a client waiting on many jobs is not woken for each.
/// </summary>
public sealed record JobFinishedNotice(IReadOnlyList<JobInfo> Jobs) : GoqMessage;
