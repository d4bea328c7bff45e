namespace Goq.Protocol;

/// <summary>Server → worker: run this job under lease <paramref name="Attempt"/>.</summary>
public sealed record DispatchJob(long JobId, int Attempt, JobSpec Spec) : GoqMessage;
