namespace Goq.Protocol;

/// <summary>Client → server: tell workers to exit: every idle one (<paramref name="Idle"/>) and/or those named.</summary>
public sealed record StopWorkers(bool Idle, IReadOnlyList<string>? Ids, bool Drain) : ClientRequest;
