using System.Text;

namespace Goq.Output;

/// <summary>
/// How a script-block job's serialized records travel and are stored as lines: each record (its CliXml, which the
/// engine never reads) becomes one or more lines <c>&lt;kind&gt;&lt;more&gt;&lt;text&gt;</c>, where kind is one of
/// <c>o e w v d i</c> (output, error, warning, verbose, debug, information), more is <c>+</c> when the next line
/// continues the record and <c>.</c> on its last line, and text is the piece with backslash, CR and LF escaped. A record
/// is cut into pieces of at most <see cref="MaxPieceChars"/> characters, so no record is too large for a message.
/// </summary>
public static class RecordLines
{
    public const int MaxPieceChars = 256 * 1024;

    public const char Output = 'o';
    public const char Error = 'e';
    public const char Warning = 'w';
    public const char Verbose = 'v';
    public const char Debug = 'd';
    public const char Information = 'i';

    public static IEnumerable<string> Encode(char kind, string xml, int maxPieceChars = MaxPieceChars)
    {
        var start = 0;
        do
        {
            var end = Math.Min(xml.Length, start + maxPieceChars);
            if (end < xml.Length && char.IsHighSurrogate(xml[end - 1]))
            {
                end--; // never cut a surrogate pair
            }

            var last = end >= xml.Length;
            yield return Escape(kind, last ? '.' : '+', xml.AsSpan(start, end - start));
            start = end;
        }
        while (start < xml.Length);
    }

    /// <summary>Unescapes one line: its kind, whether the record goes on in the next line, and its piece; null for a malformed line.</summary>
    public static (char Kind, bool More, string Piece)? Decode(string line)
    {
        if (line.Length < 2 || line[1] is not ('+' or '.') || Array.IndexOf(Kinds, line[0]) < 0)
        {
            return null;
        }

        var piece = new StringBuilder(line.Length - 2);
        for (var i = 2; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && i + 1 < line.Length)
            {
                c = line[++i] switch { 'n' => '\n', 'r' => '\r', var other => other };
            }

            piece.Append(c);
        }

        return (line[0], line[1] == '+', piece.ToString());
    }

    private static readonly char[] Kinds = [Output, Error, Warning, Verbose, Debug, Information];

    private static string Escape(char kind, char more, ReadOnlySpan<char> piece)
    {
        var text = new StringBuilder(piece.Length + 16).Append(kind).Append(more);
        foreach (var c in piece)
        {
            _ = c switch
            {
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                _ => text.Append(c),
            };
        }

        return text.ToString();
    }
}
