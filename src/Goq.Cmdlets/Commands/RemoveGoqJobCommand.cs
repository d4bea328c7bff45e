using System.Management.Automation;
using Goq.Client;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Removes ended jobs from the server's history (their output files stay where they are); with -Force also unfinished
/// ones, which are cancelled first (as Remove-Job -Force does).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "GoqJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet)]
public sealed class RemoveGoqJobCommand : GoqJobIdCmdlet
{
    private const string IdSet = "Id";
    private const string StateSet = "State";

    // In a parameter set of its own: -State names the jobs instead.
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipeline = true)]
    [GoqJobIds]
    [ArgumentCompleter(typeof(Completion.GoqJobIdCompleter))]
    [ValidateRange(1, long.MaxValue)]
    public override long[] Id { get; set; } = [];

    /// <summary>Remove every ended job in these states (Completed, Failed, Cancelled, DependencyFailed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = StateSet)]
    [ValidateSet(nameof(JobState.Completed), nameof(JobState.Failed), nameof(JobState.Cancelled), nameof(JobState.DependencyFailed))]
    public JobState[] State { get; set; } = [];

    /// <summary>Cancel unfinished jobs first, then remove them.</summary>
    [Parameter(ParameterSetName = IdSet)]
    public SwitchParameter Force { get; set; }

    // Asked per job for -Id (with -State there are none: it asks once, at the end).
    private protected override string Action => "Remove";

    protected override void EndProcessing()
    {
        if (ParameterSetName == StateSet && !ShouldProcess($"every {string.Join(", ", State)} Goq job", "Remove"))
        {
            return;
        }

        if (ParameterSetName == IdSet && Ids.Count == 0)
        {
            return;
        }

        var reply = RunBlocking(token => ParameterSetName == StateSet ? Client.RemoveAsync(null, State, token)
            : Force ? Client.RemoveForcedAsync(Ids, token) : Client.RemoveAsync(Ids, null, token));
        WriteRefusals(reply.Denied);
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobNotFound, GoqErrorKind.NotFound, $"no job with id {id}", id));
        }

        foreach (var id in reply.StillActive)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.JobNotEnded, GoqErrorKind.InvalidOperation,
                $"job {id} has not ended; stop it first (Stop-GoqJob), or use -Force", id));
        }

        WriteVerbose($"removed {reply.Removed.Count} job(s)");
    }
}
