namespace Goq.Protocol;

/// <summary>Worker → server: I am exiting; take my slots away.</summary>
public sealed record WorkerBye(string WorkerId) : WorkerReport;
