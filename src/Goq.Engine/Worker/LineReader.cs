using System.Text;

namespace Goq.Worker;

/// <summary>Splits a stream into lines on '\n' (dropping a '\r' before it), cutting very long lines into pieces.</summary>
internal static class LineReader
{
    public static async Task PumpAsync(StreamReader reader, int maxLineChars, Action<string> onLine)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != '\n')
                {
                    continue;
                }

                line.Append(buffer, start, i - start);
                Emit(line, onLine);
                start = i + 1;
            }

            line.Append(buffer, start, read - start);
            while (line.Length > maxLineChars)
            {
                onLine(line.ToString(0, maxLineChars));
                line.Remove(0, maxLineChars);
            }
        }

        if (line.Length > 0)
        {
            Emit(line, onLine);
        }
    }

    private static void Emit(StringBuilder line, Action<string> onLine)
    {
        if (line.Length > 0 && line[^1] == '\r')
        {
            line.Length--;
        }

        onLine(line.ToString());
        line.Clear();
    }
}
