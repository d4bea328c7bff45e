namespace Goq.Protocol;

/// <summary>An array job's id and its tasks' ids (<paramref name="Count"/> of them from <paramref name="FirstTaskId"/>), for a client that named the array.</summary>
public sealed record ArrayTasks(long ArrayJobId, long FirstTaskId, int Count);
