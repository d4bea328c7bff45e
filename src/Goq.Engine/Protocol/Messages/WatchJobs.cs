namespace Goq.Protocol;

/// <summary>
/// Client → server: tell me when these jobs end. The server answers at once with a <see cref="WatchReply"/> (the
/// ones already ended and the unknown ids), then pushes a <see cref="JobFinishedNotice"/> with the same request id
/// for each of the others as it ends.
/// </summary>
public sealed record WatchJobs(IReadOnlyList<long> Ids) : ClientRequest;
