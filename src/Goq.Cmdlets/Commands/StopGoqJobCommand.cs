using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Cancels jobs: a waiting job at once; a running job's whole process tree is killed on its worker, which stays up.
/// The job ends Cancelled with the output it had produced; waiters are told at once. A job that has already ended
/// is left as it is, with a warning.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "GoqJob", SupportsShouldProcess = true)]
[OutputType(typeof(JobInfo))]
public sealed class StopGoqJobCommand : GoqJobIdCmdlet
{
    /// <summary>Write the cancelled jobs.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override string Action => "Stop";

    protected override void EndProcessing()
    {
        if (Ids.Count == 0)
        {
            return;
        }

        var reply = RunBlocking(token => Client.CancelAsync(Ids, token));
        WriteRefusals(reply.Denied);
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobNotFound, GoqErrorKind.NotFound, $"no job with id {id}", id));
        }

        foreach (var job in reply.AlreadyEnded)
        {
            WriteWarning($"job {job.Id} has already ended ({job.State}); it was left as it is");
        }

        if (PassThru)
        {
            WriteObject(reply.Cancelled, enumerateCollection: true);
        }
    }
}
