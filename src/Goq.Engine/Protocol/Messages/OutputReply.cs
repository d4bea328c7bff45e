namespace Goq.Protocol;

/// <summary>
/// Server → client: a page of a job's output. <paramref name="NextLine"/> is where the next page starts;
/// <paramref name="Complete"/> is true once the job has ended and every line has been returned.
/// </summary>
public sealed record OutputReply(long JobId, IReadOnlyList<OutputLine> Lines, long NextLine, bool Complete, JobState State) : GoqMessage;
