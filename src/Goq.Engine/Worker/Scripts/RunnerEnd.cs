namespace Goq.Worker;

/// <summary>
/// Script runner → worker: how a job ended. <paramref name="State"/> is Completed or Failed; <paramref name="ExitCode"/>
/// is what <c>exit N</c> gave (0 otherwise, 1 for a terminating error); <paramref name="Reason"/> says why it failed.
/// </summary>
public sealed record RunnerEnd(JobState State, int ExitCode, string? Reason);
