using System.Text;

namespace Goq;

/// <summary>
/// One line a job wrote, as text without its newline (and without the CR of a CRLF ending). On its way from a worker to
/// the server it also says how it ended and, when the text cannot give its bytes back, carries them: the server writes
/// exactly the job's bytes (see <see cref="Output.LineCuts"/>).
/// </summary>
/// <param name="Raw">The line's exact bytes, without its ending, when <paramref name="Text"/> does not hold them (bytes
/// that are not UTF-8: the text has U+FFFD in their place); null for every other line.</param>
/// <param name="End">How the line ended in the job's output.</param>
public readonly record struct OutputLine(OutputStream Stream, string Text, byte[]? Raw = null, LineEnd End = LineEnd.Newline)
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// The line a job wrote as <paramref name="content"/> (its bytes without the ending) and <paramref name="end"/>: a
    /// CR before a newline is taken into the ending, bytes that are not UTF-8 are kept as <see cref="Raw"/>.
    /// </summary>
    public static OutputLine FromBytes(OutputStream stream, ReadOnlySpan<byte> content, LineEnd end)
    {
        if (end == LineEnd.Newline && content.Length > 0 && content[^1] == (byte)'\r')
        {
            content = content[..^1];
            end = LineEnd.CrNewline;
        }

        var text = Utf8.GetString(content);
        return System.Text.Unicode.Utf8.IsValid(content)
            ? new OutputLine(stream, text, null, end)
            : new OutputLine(stream, text, content.ToArray(), end);
    }
}

/// <summary>How a line of a job's output ended.</summary>
public enum LineEnd
{
    /// <summary>With a newline.</summary>
    Newline = 0,

    /// <summary>With a CR and a newline (the text holds neither).</summary>
    CrNewline = 1,

    /// <summary>Not ended: a piece of a line longer than <see cref="Output.LineCuts.MaxBytes"/>, which the next piece goes on.</summary>
    Cut = 2,

    /// <summary>Not ended: the last bytes of a stream (or of an attempt) written without a newline; the index records a break after it.</summary>
    Open = 3,
}
