namespace Goq;

/// <summary>One line a job wrote, without its newline.</summary>
public readonly record struct OutputLine(OutputStream Stream, string Text);
