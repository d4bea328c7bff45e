using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Caps how many jobs of a queue run at once across the cluster (pueue's group parallelism); 0 removes the cap. The
/// cap is kept by the server and holds across its restarts. Running jobs are never stopped by a lower cap: no new one
/// starts until the queue is under it.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GoqQueue", SupportsShouldProcess = true)]
[OutputType(typeof(QueueInfo))]
public sealed class SetGoqQueueCommand : GoqClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^[A-Za-z0-9_.-]{1,64}$")]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>At most this many of the queue's jobs run at once cluster-wide; 0 for no cap.</summary>
    [Parameter(Mandatory = true)]
    [ValidateRange(0, int.MaxValue)]
    public int ThrottleLimit { get; set; }

    protected override void ProcessRecord()
    {
        if (ShouldProcess($"queue {Name}", $"Set throttle limit to {ThrottleLimit}"))
        {
            WriteObject(RunBlocking(token => Client.SetQueueAsync(Name, ThrottleLimit, token)));
        }
    }
}
