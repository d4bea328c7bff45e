namespace Goq.Protocol;

/// <summary>Server → client: a watched job ended. Carries the watch's request id in the envelope.</summary>
public sealed record JobFinishedNotice(JobInfo Job) : GoqMessage;
