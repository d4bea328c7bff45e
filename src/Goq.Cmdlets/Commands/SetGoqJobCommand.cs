using System.Management.Automation;
using Goq.Protocol;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Changes jobs that have not started yet (waiting, blocked or held): their priority, which moves them in the queue
/// (higher first, first come first served within a priority). A job that has started or ended is left as it is, with
/// an error.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GoqJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(JobInfo))]
public sealed class SetGoqJobCommand : ChangeGoqJobCmdlet
{
    /// <summary>The jobs' new priority: higher runs first.</summary>
    [Parameter(Mandatory = true)]
    public int Priority { get; set; }

    private protected override string Action => $"Set priority {Priority}";

    private protected override Task<SetJobsReply> ChangeAsync(IReadOnlyList<long> ids, CancellationToken cancel) =>
        Client.SetPriorityAsync(ids, Priority, cancel);
}
