using System.Management.Automation;
using Goq.Hosting;

namespace Goq.Cmdlets.Commands;

/// <summary>Tells workers to exit: every idle one (-Idle, goq's immolateworkers) or those named by -Id.</summary>
[Cmdlet(VerbsLifecycle.Stop, "GoqWorker", SupportsShouldProcess = true, DefaultParameterSetName = IdSet)]
[OutputType(typeof(WorkerInfo))]
public sealed class StopGoqWorkerCommand : GoqClientCmdlet
{
    private const string IdSet = "Id";
    private const string IdleSet = "Idle";
    private readonly List<string> _ids = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = IdleSet)]
    public SwitchParameter Idle { get; set; }

    /// <summary>A busy worker finishes its running jobs before it exits.</summary>
    [Parameter(ParameterSetName = IdSet)]
    public SwitchParameter Drain { get; set; }

    /// <summary>A busy worker kills its running jobs (they are queued again) and exits at once (the default).</summary>
    [Parameter(ParameterSetName = IdSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// Restarts the worker in place (an upgrade): a new process on this host takes over its jobs from its job keeper,
    /// none is lost or run again. Not for workers started with -NoJobKeeper.
    /// </summary>
    [Parameter(ParameterSetName = IdSet)]
    public SwitchParameter Restart { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => _ids.AddRange(Id);

    protected override void EndProcessing()
    {
        if (!Idle && _ids.Count == 0)
        {
            return;
        }

        var target = Idle ? $"idle workers of {Settings.Endpoint}" : string.Join(", ", _ids);
        if (!ShouldProcess(target, "Stop Goq worker"))
        {
            return;
        }

        if (Restart)
        {
            var settings = Settings;
            foreach (var id in _ids.Distinct())
            {
                try
                {
                    var restarted = Launcher.RestartWorkerAsync(settings, id, PwshPath, ManifestPath, CancelToken).GetAwaiter().GetResult();
                    if (PassThru)
                    {
                        WriteObject(restarted);
                    }
                }
                catch (Errors.GoqException ex) when (ex.ErrorId is Errors.GoqErrorIds.WorkerNotFound or Errors.GoqErrorIds.WorkerRestartUnsupported)
                {
                    WriteGoqError(ex, id);
                }
                catch (Errors.GoqException ex)
                {
                    ThrowTerminatingError(ErrorRecordFactory.From(ex));
                }
                catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
                {
                    throw new PipelineStoppedException();
                }
            }

            return;
        }

        var reply = RunBlocking(token => Client.StopWorkersAsync(Idle, Idle ? null : _ids, Drain && !Force, token));
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.WorkerNotFound, ErrorCategory.ObjectNotFound, $"no connected worker with id '{id}'", id));
        }

        if (PassThru)
        {
            WriteObject(reply.Stopped, enumerateCollection: true);
        }
    }
}
