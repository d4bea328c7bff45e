using System.Collections.Concurrent;
using System.Management.Automation;
using Goq.Client;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Waits until jobs end and writes each as it ends (the server pushes the news; nothing polls). A job that has
/// already ended comes back at once; an unknown id is an ObjectNotFound error at once. A wait on several jobs that
/// lasts more than half a second shows its progress (done of total).
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "GoqJob")]
[OutputType(typeof(JobInfo))]
public sealed class WaitGoqJobCommand : GoqClientCmdlet
{
    private const int ProgressId = 0x601;
    private static readonly TimeSpan ProgressAfter = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);
    private readonly List<long> _ids = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [GoqJobIds]
    [ArgumentCompleter(typeof(Completion.GoqJobIdCompleter))]
    [ValidateRange(1, long.MaxValue)]
    public long[] Id { get; set; } = [];

    /// <summary>Seconds to wait; -1 (the default) waits for ever.</summary>
    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    /// <summary>Return when the first job ends.</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    protected override void ProcessRecord() => _ids.AddRange(Id);

    protected override void EndProcessing()
    {
        if (_ids.Count == 0)
        {
            return;
        }

        using var events = new BlockingCollection<WaitEvent>();
        var timeout = Timeout < 0 ? (TimeSpan?)null : TimeSpan.FromSeconds(Timeout);
        var wait = Client.WaitAsync(_ids, Any, timeout, events.Add, CancelToken);
        _ = wait.ContinueWith(_ => events.CompleteAdding(), TaskScheduler.Default);
        var ended = new HashSet<long>();
        var finished = 0;
        var total = _ids.Distinct().Count();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        const string Activity = "Waiting for Goq jobs";
        var showing = false;
        void Progress()
        {
            // Only for a wait on several jobs that lasts more than a moment; $ProgressPreference silences it.
            if (total < 2 || Any || watch.Elapsed < ProgressAfter)
            {
                return;
            }

            showing = true;
            WriteProgress(new ProgressRecord(ProgressId, Activity, $"{ended.Count} of {total} ended") { PercentComplete = (int)(100L * ended.Count / total) });
        }

        try
        {
            // Drained here, on the pipeline thread: the engine's callbacks only fill the collection.
            while (!events.IsCompleted)
            {
                if (!events.TryTake(out var e, (int)ProgressEvery.TotalMilliseconds, CancelToken))
                {
                    Progress();
                    continue;
                }

                ended.Add(e.Id);
                if (e.Job is { } job)
                {
                    finished++;
                    WriteObject(job);
                }
                else
                {
                    WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.JobNotFound, ErrorCategory.ObjectNotFound, $"no job with id {e.Id}", e.Id));
                }

                Progress();
            }
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        finally
        {
            if (showing)
            {
                WriteProgress(new ProgressRecord(ProgressId, Activity, $"{ended.Count} of {total} ended") { RecordType = ProgressRecordType.Completed });
            }
        }

        if (RunBlocking(_ => wait) || (Any && finished > 0))
        {
            return;
        }

        var left = _ids.Distinct().Where(id => !ended.Contains(id)).ToList();
        if (left.Count > 0)
        {
            WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.WaitTimeout, ErrorCategory.OperationTimeout,
                $"jobs {string.Join(", ", left)} did not end within {Timeout} s", left.ToArray()));
        }
    }
}
