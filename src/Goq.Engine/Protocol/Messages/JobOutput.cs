namespace Goq.Protocol;

/// <summary>Worker → server: lines the job wrote since the last chunk, in the order they were read.</summary>
public sealed record JobOutput(string WorkerId, long JobId, int Attempt, IReadOnlyList<OutputLine> Lines) : GoqMessage;
