namespace Goq.Protocol;

/// <summary>Server → client: the watched jobs that have already ended, and the ids the server does not know.</summary>
public sealed record WatchReply(IReadOnlyList<JobInfo> Finished, IReadOnlyList<long> Unknown) : GoqMessage;
