using System.Management.Automation;
using Goq.Output;

namespace Goq.Cmdlets;

/// <summary>
/// Turns a script-block job's records back into what it wrote: output objects (deserialized, with PSComputerName and
/// GoqJobId added, as Invoke-Command adds PSComputerName) and error, warning, verbose, debug and information records
/// on their own streams, with an error's FullyQualifiedErrorId and category kept. Where they go is the sink's affair:
/// a cmdlet's streams (on its pipeline thread) or a GoqJob's collections.
/// </summary>
internal sealed class RecordWriter(IStreamSink cmdlet, long jobId, string? computerName)
{
    private readonly RecordAssembler _assembler = new();

    /// <summary>
    /// A line of a command job's text output, as pwsh gives a native command's: stdout as a string on the output
    /// stream, stderr as an ErrorRecord (NativeCommandError) on the error stream.
    /// </summary>
    public static void WriteText(IStreamSink sink, long jobId, OutputLine line)
    {
        if (line.Stream == OutputStream.Stderr)
        {
            sink.WriteError(new ErrorRecord(new RemoteException(line.Text), "NativeCommandError", ErrorCategory.NotSpecified, jobId));
        }
        else
        {
            sink.WriteObject(line.Text);
        }
    }

    public void Add(string line)
    {
        if (_assembler.Add(line) is { } record)
        {
            Write(record.Kind, record.Xml);
        }
    }

    private void Write(char kind, string xml)
    {
        object? value;
        try
        {
            value = PSSerializer.Deserialize(xml);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            cmdlet.WriteWarning($"Goq job {jobId}: a record could not be read ({ex.Message})");
            return;
        }

        var record = value as PSObject;
        switch (kind)
        {
            case RecordLines.Output:
                var output = PSObject.AsPSObject(value ?? new object());
                if (value is null)
                {
                    cmdlet.WriteObject(null);
                    return;
                }

                output.Properties.Add(new PSNoteProperty("PSComputerName", computerName));
                output.Properties.Add(new PSNoteProperty("GoqJobId", jobId));
                cmdlet.WriteObject(output);
                return;
            case RecordLines.Error:
                cmdlet.WriteError(ToErrorRecord(record, value));
                return;
            case RecordLines.Warning:
                cmdlet.WriteWarning(Message(record, value));
                return;
            case RecordLines.Verbose:
                cmdlet.WriteVerbose(Message(record, value));
                return;
            case RecordLines.Debug:
                cmdlet.WriteDebug(Message(record, value));
                return;
            case RecordLines.Information:
                cmdlet.WriteInformation(ToInformationRecord(record, value));
                return;
        }
    }

    private static string Message(PSObject? record, object? value) =>
        record?.Properties["InformationalRecord_Message"]?.Value as string ?? record?.Properties["Message"]?.Value as string ?? value?.ToString() ?? "";

    // The constructor remoting rebuilds records with (internal): a record made by it keeps its FullyQualifiedErrorId as
    // it was, where one made by the public constructor gets ",Receive-GoqJob" appended when it is written.
    private static readonly System.Reflection.ConstructorInfo? SerializedConstructor = typeof(ErrorRecord).GetConstructor(
        System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance, null,
        [typeof(Exception), typeof(object), typeof(string), typeof(ErrorCategory), typeof(string), typeof(string), typeof(string), typeof(string),
            typeof(string), typeof(string), typeof(string)], null);

    private ErrorRecord ToErrorRecord(PSObject? record, object? value)
    {
        var exception = record?.Properties["Exception"]?.Value as PSObject;
        var message = exception?.Properties["Message"]?.Value as string
            ?? record?.Properties["ErrorCategory_Message"]?.Value as string
            ?? value?.ToString() ?? "";
        var id = record?.Properties["FullyQualifiedErrorId"]?.Value as string ?? Errors.GoqErrorIds.JobError;
        var category = Category(record?.Properties["ErrorCategory_Category"]?.Value);
        var target = record?.Properties["TargetObject"]?.Value ?? jobId;
        string? Text(string name) => record?.Properties[name]?.Value as string;
        if (SerializedConstructor is not null)
        {
            try
            {
                return (ErrorRecord)SerializedConstructor.Invoke([new RemoteException(message), target, id, category,
                    Text("ErrorCategory_Activity"), Text("ErrorCategory_Reason"), Text("ErrorCategory_TargetName"), Text("ErrorCategory_TargetType"),
                    Text("ErrorCategory_Message"), Text("ErrorDetails_Message"), Text("ErrorDetails_RecommendedAction")]);
            }
            catch (System.Reflection.TargetInvocationException)
            {
                // Fall back to the public constructor below.
            }
        }

        var error = new ErrorRecord(new RemoteException(message), id, category, target);
        error.CategoryInfo.Activity = Text("ErrorCategory_Activity") ?? error.CategoryInfo.Activity;
        error.CategoryInfo.Reason = Text("ErrorCategory_Reason") ?? error.CategoryInfo.Reason;
        error.CategoryInfo.TargetName = Text("ErrorCategory_TargetName") ?? error.CategoryInfo.TargetName;
        error.CategoryInfo.TargetType = Text("ErrorCategory_TargetType") ?? error.CategoryInfo.TargetType;
        if (Text("ErrorDetails_Message") is { } details)
        {
            error.ErrorDetails = new ErrorDetails(details);
        }

        return error;
    }

    private static ErrorCategory Category(object? value) => value switch
    {
        int number when Enum.IsDefined(typeof(ErrorCategory), number) => (ErrorCategory)number,
        string text when Enum.TryParse<ErrorCategory>(text, out var parsed) => parsed,
        PSObject wrapped => Category(wrapped.BaseObject),
        _ => ErrorCategory.NotSpecified,
    };

    private InformationRecord ToInformationRecord(PSObject? record, object? value)
    {
        var data = record?.Properties["MessageData"]?.Value ?? value;
        var information = new InformationRecord(data, record?.Properties["Source"]?.Value as string ?? $"Goq job {jobId}");
        if (record is null)
        {
            return information;
        }

        if (record.Properties["Tags"]?.Value is PSObject { BaseObject: System.Collections.IEnumerable tags })
        {
            foreach (var tag in tags)
            {
                information.Tags.Add(tag?.ToString() ?? "");
            }
        }

        if (record.Properties["TimeGenerated"]?.Value is DateTime time)
        {
            information.TimeGenerated = time;
        }

        information.User = record.Properties["User"]?.Value as string ?? information.User;
        information.Computer = record.Properties["Computer"]?.Value as string ?? computerName ?? information.Computer;
        if (record.Properties["ProcessId"]?.Value is uint pid)
        {
            information.ProcessId = pid;
        }

        return information;
    }
}
