using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>Removes ended jobs from the server's history (their output files stay where they are).</summary>
[Cmdlet(VerbsCommon.Remove, "GoqJob", SupportsShouldProcess = true, DefaultParameterSetName = IdSet)]
public sealed class RemoveGoqJobCommand : GoqClientCmdlet
{
    private const string IdSet = "Id";
    private const string StateSet = "State";
    private readonly List<long> _ids = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, long.MaxValue)]
    public long[] Id { get; set; } = [];

    /// <summary>Remove every ended job in these states (Completed, Failed, Cancelled).</summary>
    [Parameter(Mandatory = true, ParameterSetName = StateSet)]
    [ValidateSet(nameof(JobState.Completed), nameof(JobState.Failed), nameof(JobState.Cancelled))]
    public JobState[] State { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ParameterSetName == IdSet)
        {
            _ids.AddRange(Id.Where(id => ShouldProcess($"Goq job {id}", "Remove")));
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == StateSet && !ShouldProcess($"every {string.Join(", ", State)} Goq job", "Remove"))
        {
            return;
        }

        if (ParameterSetName == IdSet && _ids.Count == 0)
        {
            return;
        }

        var reply = RunBlocking(token => ParameterSetName == IdSet ? Client.RemoveAsync(_ids, null, token) : Client.RemoveAsync(null, State, token));
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobNotFound, ErrorCategory.ObjectNotFound, $"no job with id {id}", id));
        }

        foreach (var id in reply.StillActive)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobNotEnded, ErrorCategory.InvalidOperation,
                $"job {id} has not ended; stop it first (Stop-GoqJob)", id));
        }

        WriteVerbose($"removed {reply.Removed.Count} job(s)");
    }
}
