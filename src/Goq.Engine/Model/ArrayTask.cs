namespace Goq;

/// <summary>Which task of an array job a job is: the array's id, the task's index and how many tasks the array has.</summary>
public sealed record ArrayTask(long ArrayJobId, int Index, int Count);
