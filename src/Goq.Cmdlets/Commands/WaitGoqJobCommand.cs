using System.Collections.Concurrent;
using System.Management.Automation;
using Goq.Client;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Waits until jobs end and writes each as it ends (the server pushes the news; nothing polls). A job that has
/// already ended comes back at once; an unknown id is an ObjectNotFound error at once.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "GoqJob")]
[OutputType(typeof(JobInfo))]
public sealed class WaitGoqJobCommand : GoqClientCmdlet
{
    private readonly List<long> _ids = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [GoqJobIds]
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
        try
        {
            // Drained here, on the pipeline thread: the engine's callbacks only fill the collection.
            foreach (var e in events.GetConsumingEnumerable(CancelToken))
            {
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
            }
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
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
