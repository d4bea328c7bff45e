using Goq.Errors;

namespace Goq.Protocol;

/// <summary>
/// Server → client: the request could not be done. <paramref name="ErrorId"/> is stable (see GoqErrorIds);
/// <paramref name="Kind"/> says what sort of failure it is, so a client needs no table to tell (it becomes the
/// ErrorRecord's category).
/// </summary>
public sealed record ErrorReply(string ErrorId, string Message, GoqErrorKind Kind = GoqErrorKind.InvalidOperation) : GoqMessage;
