namespace Goq;

/// <summary>Where a job is in its life. Terminal states are Completed, Failed and Cancelled.</summary>
public enum JobState
{
    Waiting,
    Running,
    Completed,
    Failed,
    Cancelled,
}
