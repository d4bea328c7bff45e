using System.Management.Automation;

namespace Goq.Cmdlets;

/// <summary>Where a job's output and stream records go: a cmdlet's streams, or a GoqJob's collections.</summary>
internal interface IStreamSink
{
    void WriteObject(object? value);

    void WriteError(ErrorRecord record);

    void WriteWarning(string message);

    void WriteVerbose(string message);

    void WriteDebug(string message);

    void WriteInformation(InformationRecord record);
}
