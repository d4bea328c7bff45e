using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Base of the cmdlets that act on Goq jobs named by id (Get-, Wait-, Receive-, Stop-, Remove-GoqJob and those of
/// <see cref="ChangeGoqJobCmdlet"/>), as PSOpenAD's GetOpenADOperation&lt;T&gt; carries -Identity for its cmdlets.
/// <c>-Id</c> takes ids, Goq.JobInfo objects and Goq.GoqJob objects, as arguments or from the pipeline, and refuses
/// any other object (<see cref="GoqJobIdsAttribute"/>); the ids of every record are gathered, so that the cmdlet
/// makes one request for all of them at the end.
/// </summary>
/// <remarks>
/// PowerShell reads a parameter's attributes from the most derived declaration only, so a cmdlet whose -Id differs
/// for a reason (Get-GoqJob's is optional, Remove-GoqJob's is in a parameter set of its own) overrides <see cref="Id"/>
/// with every attribute again.
/// </remarks>
public abstract class GoqJobIdCmdlet : GoqClientCmdlet
{
    private readonly List<long> _ids = [];

    // By value only: the transformation takes a record as a Goq job or refuses it, so binding by property name never
    // comes into play, and declaring it would only make the help say that another object's Id is taken.
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [GoqJobIds]
    [ArgumentCompleter(typeof(Completion.GoqJobIdCompleter))]
    [ValidateRange(1, long.MaxValue)]
    public virtual long[] Id { get; set; } = [];

    /// <summary>The ids of every record so far, in the order given: for a cmdlet that asks, those ShouldProcess let through.</summary>
    private protected IReadOnlyList<long> Ids => _ids;

    /// <summary>What ShouldProcess says is done to each job; null for a cmdlet that changes nothing, and so does not ask.</summary>
    private protected virtual string? Action => null;

    /// <summary>Writes a GoqAccessDenied error for each job the server refused to change for lack of rights (a multi-user cluster's).</summary>
    private protected void WriteRefusals(IReadOnlyList<Protocol.AccessRefusal>? refused)
    {
        foreach (var refusal in refused ?? [])
        {
            WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.AccessDenied, Errors.GoqErrorKind.PermissionDenied, refusal.Message, refusal.JobId));
        }
    }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            if (Action is not { } action || ShouldProcess($"Goq job {id}", action))
            {
                _ids.Add(id);
            }
        }
    }
}
