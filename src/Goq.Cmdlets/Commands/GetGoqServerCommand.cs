using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>The server's counters and queue lengths (goq's stat).</summary>
[Cmdlet(VerbsCommon.Get, "GoqServer")]
[OutputType(typeof(ServerStatus))]
public sealed class GetGoqServerCommand : GoqClientCmdlet
{
    /// <summary>Adds uptime, the store's size and path, and the log's path.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void EndProcessing() => WriteObject(RunBlocking(token => Client.GetStatusAsync(token, countStates: true, detailed: Detailed)));
}
