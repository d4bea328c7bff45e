using System.Text.Json;
using System.Text.Json.Serialization;

namespace Goq.Protocol;

/// <summary>
/// A job's lines on the wire in a compact form: their texts joined by newlines in one string (<c>j</c>), and the
/// streams as runs of [stream, count, ...] (<c>r</c>). An object per line cost its reader (the server, for every line
/// a job writes) more than storing the line. Texts that hold a newline themselves travel as an array (<c>a</c>). The
/// few lines that do not end with a plain newline are listed as [index, <see cref="LineEnd"/>, ...] (<c>e</c>), and those
/// whose bytes are not UTF-8 as [index, base64, ...] (<c>x</c>), with an empty text: the reader decodes their text.
/// </summary>
public sealed class OutputLinesConverter : JsonConverter<IReadOnlyList<OutputLine>>
{
    private static readonly System.Text.UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<OutputLine> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        var joinable = true;
        for (var i = 0; i < value.Count && joinable; i++)
        {
            joinable = !value[i].Text.Contains('\n');
        }

        static string TextOf(OutputLine line) => line.Raw is null ? line.Text : "";

        if (joinable)
        {
            // In segments, line by line: joining them first made a string as large as the batch (megabytes, on the
            // large object heap) for every message a busy job's output took.
            writer.WritePropertyName("j");
            for (var i = 0; i < value.Count; i++)
            {
                writer.WriteStringValueSegment(TextOf(value[i]), isFinalSegment: false);
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
                writer.WriteStringValue(TextOf(line));
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
        WriteExceptions(writer, value);
        writer.WriteEndObject();
    }

    private static void WriteExceptions(Utf8JsonWriter writer, IReadOnlyList<OutputLine> value)
    {
        var ends = false;
        var raws = false;
        foreach (var line in value)
        {
            ends |= line.End != LineEnd.Newline;
            raws |= line.Raw is not null;
        }

        if (ends)
        {
            writer.WriteStartArray("e");
            for (var i = 0; i < value.Count; i++)
            {
                if (value[i].End != LineEnd.Newline)
                {
                    writer.WriteNumberValue(i);
                    writer.WriteNumberValue((int)value[i].End);
                }
            }

            writer.WriteEndArray();
        }

        if (raws)
        {
            writer.WriteStartArray("x");
            for (var i = 0; i < value.Count; i++)
            {
                if (value[i].Raw is { } raw)
                {
                    writer.WriteNumberValue(i);
                    writer.WriteBase64StringValue(raw);
                }
            }

            writer.WriteEndArray();
        }
    }

    public override IReadOnlyList<OutputLine> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("lines: an object was expected");
        }

        string[]? texts = null;
        var runs = new List<(OutputStream Stream, int Count)>();
        var ends = new List<(int Index, LineEnd End)>();
        var raws = new List<(int Index, byte[] Bytes)>();
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
                case "e" when reader.TokenType == JsonTokenType.StartArray:
                    while (reader.Read() && reader.TokenType == JsonTokenType.Number)
                    {
                        var index = reader.GetInt32();
                        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || (LineEnd)reader.GetInt32() is var end && !Enum.IsDefined(end))
                        {
                            throw new JsonException("lines: an ending is a line's index and a known ending");
                        }

                        ends.Add((index, end));
                    }

                    EndOfArray(ref reader);
                    break;
                case "x" when reader.TokenType == JsonTokenType.StartArray:
                    while (reader.Read() && reader.TokenType == JsonTokenType.Number)
                    {
                        var index = reader.GetInt32();
                        if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.TryGetBytesFromBase64(out var bytes))
                        {
                            throw new JsonException("lines: raw bytes are a line's index and base64");
                        }

                        raws.Add((index, bytes));
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

        foreach (var (index, end) in ends)
        {
            if ((uint)index >= (uint)lines.Length)
            {
                throw new JsonException("lines: an ending names no line");
            }

            lines[index] = lines[index] with { End = end };
        }

        foreach (var (index, bytes) in raws)
        {
            if ((uint)index >= (uint)lines.Length)
            {
                throw new JsonException("lines: raw bytes name no line");
            }

            lines[index] = lines[index] with { Raw = bytes, Text = Utf8.GetString(bytes) };
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
