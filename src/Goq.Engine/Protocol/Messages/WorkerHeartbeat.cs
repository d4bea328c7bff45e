namespace Goq.Protocol;

/// <summary>Worker → server: I am alive and running these jobs.</summary>
public sealed record WorkerHeartbeat(string WorkerId, IReadOnlyList<RunningJobRef> Running) : GoqMessage;
