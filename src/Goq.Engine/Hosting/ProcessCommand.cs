namespace Goq.Hosting;

/// <summary>A program and its exact arguments (no shell in between).</summary>
public sealed record ProcessCommand(string Program, IReadOnlyList<string> Arguments);
