using System.Text;

namespace Goq.Output;

/// <summary>
/// Lines as the job wrote them (their UTF-8 text or their raw bytes, then their ending), into one array that is kept and reused (it grows to the largest
/// batch seen and stays). For the server's output files: one owner thread.
/// </summary>
internal sealed class LineBuffer
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public byte[] Bytes { get; private set; } = new byte[64 * 1024];

    public int Length { get; private set; }

    /// <summary>Empties it; one grown past 4 MiB by a rare large batch goes back to its first size.</summary>
    public void Clear()
    {
        Length = 0;
        if (Bytes.Length > 4 * 1024 * 1024)
        {
            Bytes = new byte[64 * 1024];
        }
    }

    /// <summary>Adds a line and its ending; returns the bytes it took.</summary>
    public int Append(OutputLine line)
    {
        if (line.Raw is null && line.End == LineEnd.Newline)
        {
            return Append(line.Text);
        }

        Reserve((line.Raw?.Length ?? Utf8.GetMaxByteCount(line.Text.Length)) + 2);
        var written = line.Raw is { } raw ? Copy(raw) : Utf8.GetBytes(line.Text, Bytes.AsSpan(Length));
        Length += written;
        if (line.End is LineEnd.CrNewline)
        {
            Bytes[Length++] = (byte)'\r';
        }

        if (line.End is LineEnd.Newline or LineEnd.CrNewline)
        {
            Bytes[Length++] = (byte)'\n';
        }

        return written + line.End switch { LineEnd.Newline => 1, LineEnd.CrNewline => 2, _ => 0 };
    }

    private int Copy(byte[] raw)
    {
        raw.CopyTo(Bytes.AsSpan(Length));
        return raw.Length;
    }

    private void Reserve(int needed)
    {
        if (Length + needed > Bytes.Length)
        {
            var grown = new byte[Math.Max(Bytes.Length * 2, Length + needed)];
            Bytes.AsSpan(0, Length).CopyTo(grown);
            Bytes = grown;
        }
    }

    /// <summary>Adds a line of text and its newline; returns the bytes it took.</summary>
    public int Append(string line)
    {
        Reserve(Utf8.GetMaxByteCount(line.Length) + 1);

        var written = Utf8.GetBytes(line, Bytes.AsSpan(Length));
        Bytes[Length + written] = (byte)'\n';
        Length += written + 1;
        return written + 1;
    }
}
