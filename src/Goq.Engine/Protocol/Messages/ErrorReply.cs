namespace Goq.Protocol;

/// <summary>Server → client: the request could not be done. <paramref name="ErrorId"/> is stable (see GoqErrorIds).</summary>
public sealed record ErrorReply(string ErrorId, string Message) : GoqMessage;
