using System.Management.Automation;
using Goq.Protocol;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Holds jobs that have not started yet (waiting or blocked): they become Held and do not start until Resume-GoqJob
/// releases them. Their dependencies are still followed meanwhile: one that can no longer be met still ends the job
/// DependencyFailed. A job that has started or ended is left as it is, with an error.
/// </summary>
[Cmdlet(VerbsLifecycle.Suspend, "GoqJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(JobInfo))]
public sealed class SuspendGoqJobCommand : ChangeGoqJobCmdlet
{
    private protected override string Action => "Hold";

    private protected override Task<SetJobsReply> ChangeAsync(IReadOnlyList<long> ids, CancellationToken cancel) =>
        Client.HoldAsync(ids, hold: true, cancel);
}
