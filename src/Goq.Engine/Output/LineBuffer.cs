using System.Text;

namespace Goq.Output;

/// <summary>
/// Lines encoded as UTF-8, each followed by a newline, into one array that is kept and reused (it grows to the largest
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

    /// <summary>Adds a line and its newline; returns the bytes it took.</summary>
    public int Append(string line)
    {
        var needed = Utf8.GetMaxByteCount(line.Length) + 1;
        if (Length + needed > Bytes.Length)
        {
            var grown = new byte[Math.Max(Bytes.Length * 2, Length + needed)];
            Bytes.AsSpan(0, Length).CopyTo(grown);
            Bytes = grown;
        }

        var written = Utf8.GetBytes(line, Bytes.AsSpan(Length));
        Bytes[Length + written] = (byte)'\n';
        Length += written + 1;
        return written + 1;
    }
}
