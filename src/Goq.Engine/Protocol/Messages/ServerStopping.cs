namespace Goq.Protocol;

/// <summary>
/// Server → worker: the server is stopping cleanly (Stop-GoqServer, SIGTERM); its queue is kept. The worker goes on
/// with its running jobs, keeps their ends until the server is back, and says so in its log.
/// </summary>
public sealed record ServerStopping(string Reason) : GoqMessage;
