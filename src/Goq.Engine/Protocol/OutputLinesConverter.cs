using System.Text.Json;
using System.Text.Json.Serialization;

namespace Goq.Protocol;

/// <summary>
/// A job's lines on the wire in a compact form: their texts joined by newlines in one string (<c>j</c>), and the
/// streams as runs of [stream, count, ...] (<c>r</c>). An object per line cost its reader (the server, for every line
/// a job writes) more than storing the line. Texts that hold a newline themselves travel as an array (<c>a</c>).
/// </summary>
public sealed class OutputLinesConverter : JsonConverter<IReadOnlyList<OutputLine>>
{
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<OutputLine> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        var joinable = true;
        for (var i = 0; i < value.Count && joinable; i++)
        {
            joinable = !value[i].Text.Contains('\n');
        }

        if (joinable)
        {
            // In segments, line by line: joining them first made a string as large as the batch (megabytes, on the
            // large object heap) for every message a busy job's output took.
            writer.WritePropertyName("j");
            for (var i = 0; i < value.Count; i++)
            {
                writer.WriteStringValueSegment(value[i].Text, isFinalSegment: false);
                if (i < value.Count - 1)
                {
                    writer.WriteStringValueSegment("\n", isFinalSegment: false);
                }
            }

            writer.WriteStringValueSegment("", isFinalSegment: true);
        }
        else
        {
            writer.WriteStartArray("a");
            foreach (var line in value)
            {
                writer.WriteStringValue(line.Text);
            }

            writer.WriteEndArray();
        }

        writer.WriteStartArray("r");
        for (var i = 0; i < value.Count;)
        {
            var stream = value[i].Stream;
            var run = 0;
            while (i < value.Count && value[i].Stream == stream)
            {
                run++;
                i++;
            }

            writer.WriteNumberValue((int)stream);
            writer.WriteNumberValue(run);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public override IReadOnlyList<OutputLine> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("lines: an object was expected");
        }

        string[]? texts = null;
        var runs = new List<(OutputStream Stream, int Count)>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "j" when reader.TokenType == JsonTokenType.String:
                    texts = SplitLines(ref reader);
                    break;
                case "a" when reader.TokenType == JsonTokenType.StartArray:
                    var list = new List<string>();
                    while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        list.Add(reader.GetString()!);
                    }

                    EndOfArray(ref reader);
                    texts = [.. list];
                    break;
                case "r" when reader.TokenType == JsonTokenType.StartArray:
                    while (reader.Read() && reader.TokenType == JsonTokenType.Number)
                    {
                        var stream = (OutputStream)reader.GetInt32();
                        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !Enum.IsDefined(stream) || reader.GetInt32() is var count && count < 1)
                        {
                            throw new JsonException("lines: a run is a stream and a count of at least 1");
                        }

                        runs.Add((stream, reader.GetInt32()));
                    }

                    EndOfArray(ref reader);
                    break;
                default:
                    throw new JsonException($"lines: unexpected '{name}'");
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            throw new JsonException("lines: the object does not end");
        }

        var total = runs.Sum(r => (long)r.Count);
        if (total == 0)
        {
            return [];
        }

        if (texts is null || texts.Length != total)
        {
            throw new JsonException("lines: the runs do not count the lines");
        }

        var lines = new OutputLine[texts.Length];
        var at = 0;
        foreach (var (stream, count) in runs)
        {
            for (var k = 0; k < count; k++, at++)
            {
                lines[at] = new OutputLine(stream, texts[at]);
            }
        }

        return lines;
    }

    /// <summary>The joined texts, split at each newline, without making the whole as one string first (it may be megabytes).</summary>
    private static string[] SplitLines(ref Utf8JsonReader reader)
    {
        // A character takes at least one byte of the JSON, escaped or not: the value's length bounds its characters.
        var bound = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var buffer = System.Buffers.ArrayPool<char>.Shared.Rent(Math.Max(1, bound));
        try
        {
            var text = buffer.AsSpan(0, reader.CopyString(buffer));
            var lines = new List<string>();
            for (int start = 0, end; ; start = end + 1)
            {
                end = text[start..].IndexOf('\n') is var at and >= 0 ? start + at : text.Length;
                lines.Add(new string(text[start..end]));
                if (end == text.Length)
                {
                    return [.. lines];
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static void EndOfArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("lines: an array holds something it should not");
        }
    }
}
