using System.Management.Automation;
using Goq.Errors;
using Goq.Protocol;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Runs ended jobs again under their own ids, each as a new attempt: its earlier runs stay in its history
/// (Get-GoqJob -IncludeAttempts) and their output in its file. With -IncludeDependents, the jobs that ended
/// DependencyFailed because of them run again too, once what they depend on allows. A job that has not ended is left
/// as it is, with an error.
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "GoqJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(JobInfo))]
public sealed class RestartGoqJobCommand : ChangeGoqJobCmdlet
{
    /// <summary>Also run again every job that ended DependencyFailed because of these, however deep.</summary>
    [Parameter]
    public SwitchParameter IncludeDependents { get; set; }

    private protected override string Action => IncludeDependents ? "Restart, with its DependencyFailed dependents" : "Restart";

    private protected override Task<SetJobsReply> ChangeAsync(IReadOnlyList<long> ids, CancellationToken cancel) =>
        Client.RestartAsync(ids, IncludeDependents, cancel);

    private protected override ErrorRecord NotChangeable(JobInfo job) => ErrorRecordFactory.Create(GoqErrorIds.JobNotEnded, GoqErrorKind.InvalidOperation,
        $"job {job.Id} is {job.State}: only a job that has ended can be restarted (Stop-GoqJob ends it)", job.Id);
}
