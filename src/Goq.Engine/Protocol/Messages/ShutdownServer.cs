namespace Goq.Protocol;

/// <summary>Client → server: stop gracefully. Replied to with <see cref="Ack"/> before the server stops.</summary>
public sealed record ShutdownServer : ClientRequest;
