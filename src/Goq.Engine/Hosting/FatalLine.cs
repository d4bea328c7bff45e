using Goq.Errors;

namespace Goq.Hosting;

/// <summary>
/// How a detached role tells whoever started it why it failed: one line on its standard error (its log),
/// <c>GOQ-FATAL &lt;ErrorId&gt; &lt;Kind&gt; &lt;message&gt;</c>, which the launcher turns back into the same
/// <see cref="GoqException"/>. An ErrorId of "-" (an error that is not Goq's) takes the launcher's own.
/// </summary>
public static class FatalLine
{
    public const string Marker = "GOQ-FATAL ";
    private const string NoId = "-";

    public static string Format(Exception error) =>
        error is GoqException goq
            ? $"{Marker}{goq.ErrorId} {goq.Kind} {OneLine(goq.Message)}"
            : $"{Marker}{NoId} {GoqErrorKind.InvalidOperation} {OneLine(error.Message)}";

    /// <summary>The error a fatal line reports, or null when the line is not one.</summary>
    public static GoqException? TryParse(string line, string defaultErrorId)
    {
        if (!line.StartsWith(Marker, StringComparison.Ordinal))
        {
            return null;
        }

        var parts = line[Marker.Length..].TrimEnd('\r').Split(' ', 3);
        if (parts.Length < 3)
        {
            return new GoqException(defaultErrorId, GoqErrorKind.InvalidOperation, string.Join(' ', parts));
        }

        var id = parts[0] == NoId ? defaultErrorId : parts[0];
        var kind = Enum.TryParse<GoqErrorKind>(parts[1], out var parsed) ? parsed : GoqErrorKind.InvalidOperation;
        return new GoqException(id, kind, parts[2]);
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
