using System.Management.Automation.Language;

namespace Goq.Runner;

/// <summary>
/// A job's script as the runner runs it: parsed (or why it does not parse) and with its <c>$using:</c> references
/// rewritten (<see cref="UsingVariables"/>). Jobs of one pipeline share their script, so the result is kept for the
/// last scripts seen instead of being worked out again for every job. The runner's one thread only.
/// </summary>
internal static class ParsedScripts
{
    private const int Capacity = 64;
    private static readonly Dictionary<string, (string? Error, string Text)> Seen = new(StringComparer.Ordinal);

    /// <summary>The text to run, or the first parse error.</summary>
    public static (string? Error, string Text) Get(string script)
    {
        if (Seen.TryGetValue(script, out var known))
        {
            return known;
        }

        var ast = Parser.ParseInput(script, out _, out var errors);
        var parsed = errors.Length > 0 ? (errors[0].Message, script) : ((string?)null, UsingVariables.Rewrite(script, ast));
        if (Seen.Count >= Capacity)
        {
            Seen.Clear(); // a runner that sees many different scripts keeps only the latest
        }

        Seen[script] = parsed;
        return parsed;
    }
}
