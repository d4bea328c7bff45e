using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Changes jobs that have not started yet (waiting or blocked): their priority, which moves them in the queue (higher
/// first, first come first served within a priority). A job that has started or ended is left as it is, with an error.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GoqJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(JobInfo))]
public sealed class SetGoqJobCommand : GoqClientCmdlet
{
    private readonly List<long> _ids = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [GoqJobIds]
    [ArgumentCompleter(typeof(Completion.GoqJobIdCompleter))]
    [ValidateRange(1, long.MaxValue)]
    public long[] Id { get; set; } = [];

    /// <summary>The jobs' new priority: higher runs first.</summary>
    [Parameter(Mandatory = true)]
    public int Priority { get; set; }

    /// <summary>Write the changed jobs.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            if (ShouldProcess($"Goq job {id}", $"Set priority {Priority}"))
            {
                _ids.Add(id);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_ids.Count == 0)
        {
            return;
        }

        var reply = RunBlocking(token => Client.SetPriorityAsync(_ids, Priority, token));
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobNotFound, ErrorCategory.ObjectNotFound, $"no job with id {id}", id));
        }

        foreach (var job in reply.Started)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobStarted, ErrorCategory.InvalidOperation,
                $"job {job.Id} is {job.State}: only a job that has not started can be changed", job.Id));
        }

        if (PassThru)
        {
            WriteObject(reply.Changed, enumerateCollection: true);
        }
    }
}
