namespace Goq.Output;

/// <summary>A page of output: its lines, the number of the next line, and the file offset where that line starts.</summary>
internal sealed record OutputPage(IReadOnlyList<OutputLine> Lines, long NextLine, long NextOffset);
