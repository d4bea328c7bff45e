namespace Goq.Worker;

/// <summary>A job's process could not be started; the message says why, for the job's output.</summary>
internal sealed class JobStartException(string message) : Exception(message);
