using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>Jobs known to the server (waiting, running and finished), ordered by id.</summary>
[Cmdlet(VerbsCommon.Get, "GoqJob")]
[OutputType(typeof(JobInfo))]
public sealed class GetGoqJobCommand : GoqClientCmdlet
{
    private readonly List<long> _ids = [];

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, long.MaxValue)]
    public long[]? Id { get; set; }

    [Parameter]
    public JobState[]? State { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord() => _ids.AddRange(Id ?? []);

    protected override void EndProcessing()
    {
        var reply = RunBlocking(token => Client.GetJobsAsync(_ids.Count > 0 ? _ids : null, State, token));
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.JobNotFound, ErrorCategory.ObjectNotFound, $"no job with id {id}", id));
        }

        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var job in reply.Jobs)
        {
            if (patterns is null || (job.Name is { } name && patterns.Any(p => p.IsMatch(name))))
            {
                WriteObject(job);
            }
        }
    }
}
