using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>The workers connected to the server, with their busy slots and when they were last heard from.</summary>
[Cmdlet(VerbsCommon.Get, "GoqWorker")]
[OutputType(typeof(WorkerInfo))]
public sealed class GetGoqWorkerCommand : GoqClientCmdlet
{
    protected override void EndProcessing()
    {
        foreach (var worker in RunBlocking(token => Client.GetWorkersAsync(token)))
        {
            WriteObject(worker);
        }
    }
}
