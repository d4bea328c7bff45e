namespace Goq.Protocol;

/// <summary>A plain acknowledgement of a request.</summary>
public sealed record Ack : GoqMessage;
