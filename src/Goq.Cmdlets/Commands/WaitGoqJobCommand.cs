using System.Collections.Concurrent;
using System.Management.Automation;
using Goq.Client;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Waits until jobs end and writes each as it ends (the server pushes the news; nothing polls). A job that has
/// already ended comes back at once; an unknown id is an ObjectNotFound error at once. A wait on several jobs that
/// lasts more than half a second shows its progress (done of total); an array job counts as its tasks.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "GoqJob")]
[OutputType(typeof(JobInfo))]
public sealed class WaitGoqJobCommand : GoqJobIdCmdlet
{
    private const int ProgressId = 0x601;
    private static readonly TimeSpan ProgressAfter = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);
    /// <summary>Seconds to wait; -1 (the default) waits for ever.</summary>
    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    /// <summary>Return when the first job ends.</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    protected override void EndProcessing()
    {
        if (Ids.Count == 0)
        {
            return;
        }

        using var events = new BlockingCollection<WaitEvent>();
        var arrays = new ConcurrentQueue<Protocol.ArrayTasks>(); // filled before the events of their tasks
        var expanded = new Dictionary<long, Protocol.ArrayTasks>();
        var timeout = Timeout < 0 ? (TimeSpan?)null : TimeSpan.FromSeconds(Timeout);
        var wait = Client.WaitAsync(Ids, Any, timeout, events.Add, CancelToken, arrays.Enqueue);
        _ = wait.ContinueWith(_ => events.CompleteAdding(), TaskScheduler.Default);
        var ended = new HashSet<long>();
        var finished = 0;
        var total = Ids.Distinct().Count();
        void CountArrays()
        {
            // An array's id stands for its tasks: the total counts them instead.
            while (arrays.TryDequeue(out var array))
            {
                if (expanded.TryAdd(array.ArrayJobId, array))
                {
                    total += array.Count - 1;
                }
            }
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        const string Activity = "Waiting for Goq jobs";
        var showing = false;
        void Progress()
        {
            CountArrays();
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
                    WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.JobNotFound, Errors.GoqErrorKind.NotFound, $"no job with id {e.Id}", e.Id));
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

        CountArrays();
        bool Ended(long id) => expanded.TryGetValue(id, out var array)
            ? Enumerable.Range(0, array.Count).All(k => ended.Contains(array.FirstTaskId + k))
            : ended.Contains(id);
        var left = Ids.Distinct().Where(id => !Ended(id)).ToList();
        if (left.Count > 0)
        {
            WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.WaitTimeout, Errors.GoqErrorKind.Timeout,
                $"jobs {string.Join(", ", left)} did not end within {Timeout} s", left.ToArray()));
        }
    }
}
