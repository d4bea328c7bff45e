using System.Management.Automation;
using Goq.Output;
using Goq.Worker;

namespace Goq.Runner;

/// <summary>
/// Where one job's objects and stream records go: serialized (CliXml, at the job's depth) into record lines and,
/// rendered as text, into text lines, both sent to the worker at once and in order. Counts the serialized bytes
/// against the job's limit; once over it, <see cref="OverLimit"/> is set and every further record is refused.
/// </summary>
internal sealed class RecordSink(Action<OutputStream, string> send, int depth, long maxBytes)
{
    private long _bytes;

    public bool OverLimit { get; private set; }

    public string LimitReason => $"the job's output passed the limit of {maxBytes:N0} bytes of serialized objects (MaxJobRecordBytes)";

    /// <summary>Sends an output object; false once the job is over its limit.</summary>
    public bool Output(object? value) => Record(RecordLines.Output, value);

    public bool Record(char kind, object? value)
    {
        if (OverLimit)
        {
            return false;
        }

        string xml;
        try
        {
            xml = PSSerializer.Serialize(value, depth);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Checkpoint: an object the serializer cannot take is passed on as its text, with a warning, never lost.
            var text = SafeText(value);
            Warn($"an object of type {value?.GetType().FullName} could not be serialized ({ex.Message}); its string form is returned instead");
            xml = PSSerializer.Serialize(text, depth);
        }

        _bytes += xml.Length;
        if (_bytes > maxBytes)
        {
            OverLimit = true;
            return false;
        }

        foreach (var line in RecordLines.Encode(kind, xml))
        {
            send(OutputStream.Record, line);
        }

        return true;
    }

    /// <summary>A line of the job's readable text.</summary>
    public void Text(OutputStream stream, string text)
    {
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            send(stream, line);
        }
    }

    public void Warn(string message)
    {
        var record = new WarningRecord(message);
        Record(RecordLines.Warning, record);
        Text(OutputStream.Stdout, "WARNING: " + message);
    }

    private static string SafeText(object? value)
    {
        try
        {
            return value?.ToString() ?? "";
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return $"<{value?.GetType().FullName}: {ex.Message}>";
        }
    }
}
