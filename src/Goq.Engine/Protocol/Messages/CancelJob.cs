namespace Goq.Protocol;

/// <summary>Server → worker: kill the process tree of this job, if it still runs it under this lease.</summary>
public sealed record CancelJob(long JobId, int Attempt) : GoqMessage;
