using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>The server's counters and queue lengths (goq's stat).</summary>
[Cmdlet(VerbsCommon.Get, "GoqServer")]
[OutputType(typeof(ServerStatus))]
public sealed class GetGoqServerCommand : GoqClientCmdlet
{
    protected override void EndProcessing() => WriteObject(RunBlocking(token => Client.GetStatusAsync(token, countStates: true)));
}
