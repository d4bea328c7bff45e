using System.Management.Automation;

namespace Goq.Cmdlets;

/// <summary>A cmdlet's own streams (write from its pipeline thread only).</summary>
internal sealed class CmdletSink(Cmdlet cmdlet) : IStreamSink
{
    public void WriteObject(object? value) => cmdlet.WriteObject(value);

    public void WriteError(ErrorRecord record) => cmdlet.WriteError(record);

    public void WriteWarning(string message) => cmdlet.WriteWarning(message);

    public void WriteVerbose(string message) => cmdlet.WriteVerbose(message);

    public void WriteDebug(string message) => cmdlet.WriteDebug(message);

    public void WriteInformation(InformationRecord record) => cmdlet.WriteInformation(record);
}
