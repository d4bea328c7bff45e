using System.Management.Automation;
using Goq.Errors;
using Goq.Protocol;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// What Set-, Suspend-, Resume- and Restart-GoqJob share: they change jobs, all in one request, and report those the
/// change does not apply to (by default: they have started or ended, GoqJobStarted) and the unknown ids (GoqJobNotFound).
/// </summary>
public abstract class ChangeGoqJobCmdlet : GoqJobIdCmdlet
{
    /// <summary>Write the changed jobs.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>What ShouldProcess says is done to each job.</summary>
    private protected abstract override string Action { get; }

    /// <summary>The one request that changes the jobs.</summary>
    private protected abstract Task<SetJobsReply> ChangeAsync(IReadOnlyList<long> ids, CancellationToken cancel);

    /// <summary>The error for a job the change does not apply to.</summary>
    private protected virtual ErrorRecord NotChangeable(JobInfo job) => ErrorRecordFactory.Create(GoqErrorIds.JobStarted, GoqErrorKind.InvalidOperation,
        $"job {job.Id} is {job.State}: only a job that has not started can be changed", job.Id);

    protected override void EndProcessing()
    {
        if (Ids.Count == 0)
        {
            return;
        }

        var reply = RunBlocking(token => ChangeAsync(Ids, token));
        WriteRefusals(reply.Denied);
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobNotFound, GoqErrorKind.NotFound, $"no job with id {id}", id));
        }

        foreach (var job in reply.Started)
        {
            WriteError(NotChangeable(job));
        }

        if (PassThru)
        {
            WriteObject(reply.Changed, enumerateCollection: true);
        }
    }
}
