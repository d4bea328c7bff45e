using System.Management.Automation;
using Goq.Protocol;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Releases held jobs (Submit-GoqJob -Hold, Suspend-GoqJob), and lets a job waiting for its -NotBefore time start now. A released job waits for a slot, or for its dependencies when they are still pending.
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "GoqJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(JobInfo))]
public sealed class ResumeGoqJobCommand : ChangeGoqJobCmdlet
{
    private protected override string Action => "Release";

    private protected override Task<SetJobsReply> ChangeAsync(IReadOnlyList<long> ids, CancellationToken cancel) =>
        Client.HoldAsync(ids, hold: false, cancel);
}
