namespace Goq.Protocol;

/// <summary>Client → server: a job's output lines from line <paramref name="FromLine"/> on, at most <paramref name="MaxLines"/>.</summary>
public sealed record ReadOutput(long JobId, long FromLine, int MaxLines) : GoqMessage;
