using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>Jobs known to the server (waiting, running and finished), ordered by id.</summary>
[Cmdlet(VerbsCommon.Get, "GoqJob")]
[OutputType(typeof(JobInfo), typeof(GoqJob), typeof(JobAttempt))]
public sealed class GetGoqJobCommand : GoqJobIdCmdlet
{
    // Optional here: without ids, Get-GoqJob lists every job.
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [GoqJobIds]
    [ArgumentCompleter(typeof(Completion.GoqJobIdCompleter))]
    [ValidateRange(1, long.MaxValue)]
    public override long[] Id { get; set; } = [];

    [Parameter]
    public JobState[]? State { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.GoqJobNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only jobs still in the queue at or after this time (not ended before it).</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    /// <summary>Only jobs submitted at or before this time.</summary>
    [Parameter]
    public DateTime? Until { get; set; }

    /// <summary>Only jobs of this submitter: user@host, or a user name on any host.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SubmittedBy { get; set; }

    /// <summary>Only jobs in these queues.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public string[]? Queue { get; set; }

    /// <summary>Only the tasks of array jobs with these indices (with -Id of an array: those of its tasks).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int[]? ArrayIndex { get; set; }

    /// <summary>Write every attempt of each job (Goq.JobAttempt): earlier runs (retries, restarts, lost workers) and the current one.</summary>
    [Parameter]
    public SwitchParameter IncludeAttempts { get; set; }

    /// <summary>Return the jobs as PowerShell jobs (Goq.GoqJob): Get-GoqJob -State Failed -AsJob | Receive-Job.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void EndProcessing()
    {
        if (Ids.Count == 0 && MyInvocation.ExpectingInput)
        {
            return; // piped input that named no Goq job (refused, or empty) means no jobs, not every job
        }

        // Page by page, each written as it comes: no number of jobs makes one reply too large or holds them all here.
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        var ids = Ids.Count > 0 ? Ids : null;
        var filter = new JobFilter
        {
            Since = Since is { } since ? Local(since) : null,
            Until = Until is { } until ? Local(until) : null,
            SubmittedBy = SubmittedBy,
            Queues = Queue,
            ArrayIndexes = ArrayIndex,
            Names = Name,
        };

        // The next page is asked for as soon as a page comes, and comes while this one is written to the pipeline.
        var next = Client.GetJobsPageAsync(ids, State, 0, CancelToken, filter);
        while (next is not null)
        {
            var asked = next;
            var page = RunBlocking(_ => asked);
            next = page.NextAfterId is { } from ? Client.GetJobsPageAsync(ids, State, from, CancelToken, filter) : null;
            foreach (var id in page.Unknown)
            {
                WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.JobNotFound, Errors.GoqErrorKind.NotFound, $"no job with id {id}", id));
            }

            foreach (var job in page.Jobs)
            {
                if (patterns is null || (job.Name is { } name && patterns.Any(p => p.IsMatch(name))))
                {
                    if (IncludeAttempts)
                    {
                        WriteObject(job.History, enumerateCollection: true);
                        if (job.Attempts > job.AttemptsBeforeRun || job.State.IsTerminal())
                        {
                            WriteObject(JobAttempt.Of(job));
                        }
                    }
                    else if (AsJob)
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
        }
    }

    /// <summary>A time as the user typed it: a time without a zone is this host's local time.</summary>
    private static DateTimeOffset Local(DateTime at) =>
        new(at.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(at, DateTimeKind.Local) : at);
}
