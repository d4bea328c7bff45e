using System.Management.Automation;
using Goq.Hosting;
using Goq.Worker;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Starts a worker that runs up to -Slots jobs at once: detached (returns once the server has registered it) or,
/// with -Wait, here until Ctrl+C (running jobs are then killed and re-queued).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "GoqWorker")]
[OutputType(typeof(WorkerInfo))]
public sealed class StartGoqWorkerCommand : GoqCmdlet
{
    [Parameter]
    [ValidateRange(1, 4096)]
    public int Slots { get; set; } = Environment.ProcessorCount;

    /// <summary>Run one job, then exit.</summary>
    [Parameter]
    public SwitchParameter OneShot { get; set; }

    /// <summary>Run the worker in this process until it exits or Ctrl+C.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    [Parameter(DontShow = true)]
    [ValidateRange(0, 65535)]
    public int? Port { get; set; }

    /// <summary>The worker's id; chosen by the detached launcher so it can find its worker.</summary>
    [Parameter(DontShow = true)]
    [ValidatePattern("^[0-9a-fA-F-]{8,64}$")]
    public string? WorkerId { get; set; }

    protected override void EndProcessing()
    {
        var settings = OrTerminate(() => LoadSettings(Port));
        if (!Wait)
        {
            WriteObject(RunBlocking(token => Launcher.StartWorkerAsync(settings, Slots, OneShot, PwshPath, ManifestPath, token)));
            return;
        }

        var options = new GoqWorkerOptions
        {
            Endpoint = settings.Endpoint,
            WorkerId = WorkerId ?? Guid.NewGuid().ToString("N"),
            Slots = Slots,
            OneShot = OneShot,
            HeartbeatMs = settings.HeartbeatSec * 1000,
            Credentials = OrTerminate(() => settings.LoadCredentials()),
            ReplayWindow = settings.ReplayWindow,
            Runner = new JobRunnerOptions { PwshPath = PwshPath },
        };
        var started = new TaskCompletionSource<WorkerInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = WorkerHost.RunAsync(settings, options, info => started.TrySetResult(info), CancelToken);
        WriteObject(RunBlocking(_ => Started.WhenStartedAsync(run, started.Task)));
        RunBlocking(_ => run);
    }
}
