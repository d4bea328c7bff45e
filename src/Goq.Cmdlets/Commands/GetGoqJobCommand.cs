using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>Jobs known to the server (waiting, running and finished), ordered by id.</summary>
[Cmdlet(VerbsCommon.Get, "GoqJob")]
[OutputType(typeof(JobInfo), typeof(GoqJob))]
public sealed class GetGoqJobCommand : GoqClientCmdlet
{
    private readonly List<long> _ids = [];

    [Parameter(Position = 0, ValueFromPipeline = true)]
    [GoqJobIds]
    [ArgumentCompleter(typeof(Completion.GoqJobIdCompleter))]
    [ValidateRange(1, long.MaxValue)]
    public long[]? Id { get; set; }

    [Parameter]
    public JobState[]? State { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.GoqJobNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Return the jobs as PowerShell jobs (Goq.GoqJob): Get-GoqJob -State Failed -AsJob | Receive-Job.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord() => _ids.AddRange(Id ?? []);

    protected override void EndProcessing()
    {
        if (_ids.Count == 0 && MyInvocation.ExpectingInput)
        {
            return; // piped input that named no Goq job (refused, or empty) means no jobs, not every job
        }

        // Page by page, each written as it comes: no number of jobs makes one reply too large or holds them all here.
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        var ids = _ids.Count > 0 ? _ids : null;
        long? after = 0;
        while (after is { } from)
        {
            var page = RunBlocking(token => Client.GetJobsPageAsync(ids, State, from, token));
            foreach (var id in page.Unknown)
            {
                WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.JobNotFound, ErrorCategory.ObjectNotFound, $"no job with id {id}", id));
            }

            foreach (var job in page.Jobs)
            {
                if (patterns is null || (job.Name is { } name && patterns.Any(p => p.IsMatch(name))))
                {
                    if (AsJob)
                    {
                        var settings = Settings;
                        WriteObject(GoqJobSourceAdapter.Adopt(this, job, settings, () => ClientCache.Get(settings)));
                    }
                    else
                    {
                        WriteObject(job);
                    }
                }
            }

            after = page.NextAfterId;
        }
    }
}
