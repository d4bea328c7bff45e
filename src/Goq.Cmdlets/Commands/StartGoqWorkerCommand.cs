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

    /// <summary>
    /// At most how many jobs beyond -Slots the worker takes ahead, each started the moment a slot frees (default: eight
    /// per slot; 0 for none). The server hands it as many as its recent jobs' run time calls for; one that waits a quarter
    /// of a second without a slot goes back to the server.
    /// </summary>
    [Parameter]
    [ValidateRange(0, 4096)]
    public int? Prefetch { get; set; }

    /// <summary>The queues it serves (default: the queue named default). It takes the best job of all of them.</summary>
    [Parameter]
    [ValidateCount(1, 64)]
    [ValidatePattern("^[A-Za-z0-9_.-]{1,64}$")]
    public string[]? Queue { get; set; }

    /// <summary>What this worker offers (gpu, bigmem, ...): jobs that -Require labels run only on workers with all of them.</summary>
    [Parameter]
    [ValidateCount(0, 64)]
    [ValidatePattern("^[A-Za-z0-9_.-]{1,64}$")]
    public string[]? Label { get; set; }

    /// <summary>
    /// In a multi-user cluster, users this worker (started by root) runs jobs as even though they are root or system
    /// accounts (uid below 1000); every other job of such an owner fails with the reason.
    /// </summary>
    [Parameter]
    [ValidateCount(1, 64)]
    [ValidatePattern("^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$")]
    public string[]? AllowUser { get; set; }

    private WorkerCapacity Capacity => new(Slots, Prefetch, Queue?.Distinct(StringComparer.Ordinal).ToArray(), Label?.Distinct(StringComparer.Ordinal).ToArray(),
        AllowUser?.Distinct(StringComparer.Ordinal).ToArray());

    /// <summary>Run one job, then exit.</summary>
    [Parameter]
    public SwitchParameter OneShot { get; set; }

    /// <summary>Run the worker in this process until it exits or Ctrl+C.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>
    /// Run the jobs in this worker process itself. By default (on Linux) a job keeper process that outlives the worker
    /// holds them: a worker killed (even with -9) and started again on this host within the dead-worker time takes its
    /// running jobs, their output and the results of those that ended meanwhile back, and nothing runs twice.
    /// </summary>
    [Parameter]
    public SwitchParameter NoJobKeeper { get; set; }

    /// <summary>
    /// Start it even when a worker serving the same queues with the same labels already runs on this host for this home
    /// (without it, that is refused with GoqWorkerAlreadyRunning: a second such worker only adds slots, as -Slots does).
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private bool UseKeeper => !NoJobKeeper && !OneShot && !AsKeeper && OperatingSystem.IsLinux();

    /// <summary>Internal: run as the job keeper of worker -WorkerId (started by a worker with -JobKeeper).</summary>
    [Parameter(DontShow = true)]
    public SwitchParameter AsKeeper { get; set; }

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
            WriteObject(RunBlocking(token => Launcher.StartWorkerAsync(settings, Capacity, OneShot, RoleCommands, token, UseKeeper, Force)));
            return;
        }

        if (!Force && !OneShot && !AsKeeper && WorkerId is null)
        {
            // Started by hand or by a service (a worker the launcher starts was checked by it).
            OrTerminate(() =>
            {
                LocalWorkers.EnsureNoTwin(settings, Capacity);
                return true;
            });
        }

        if (UseKeeper)
        {
            var relayStarted = new TaskCompletionSource<WorkerInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
            var relay = WorkerHost.RunWithKeeperAsync(settings, WorkerId ?? Guid.NewGuid().ToString("N"), Capacity, RoleCommands,
                info => relayStarted.TrySetResult(info), CancelToken);
            WriteObject(RunBlocking(_ => Started.WhenStartedAsync(relay, relayStarted.Task)));
            RunBlocking(_ => relay);
            return;
        }

        var credentials = OrTerminate(() => settings.LoadCredentials());
        var options = new GoqWorkerOptions
        {
            Endpoint = settings.Endpoint,
            WorkerId = WorkerId ?? Guid.NewGuid().ToString("N"),
            Slots = Slots,
            Prefetch = Prefetch,
            Queues = Capacity.Queues,
            Labels = Capacity.Labels ?? [],
            OneShot = OneShot,
            HeartbeatMs = settings.HeartbeatSec * 1000,
            Credentials = credentials,
            ReplayWindow = settings.ReplayWindow,
            Runner = new JobRunnerOptions
            {
                PwshPath = PwshPath,
                ScriptRunnerCommand = ScriptRunnerCommand(PwshPath),
                MaxJobRecordBytes = settings.MaxJobRecordBytes,
                RunnerMaxJobs = settings.RunnerMaxJobs,
                RunnerMaxBytes = settings.RunnerMaxBytes,
                // Checkpoint (identity): root in a multi-user cluster runs each job as its owner (a worker started with a
                // user's key is handed only that user's jobs, and runs them as that user too).
                // The server says which jobs must run as their owners (JobSpec.RunAsOwner): the worker's own config may be
                // an older copy that does not say the cluster is multi-user.
                Owners = Platform.FileCredentials.CanSwitch ? new JobOwners(AllowUser) : null,
            },
            Keeper = AsKeeper && WorkerId is not null
                ? new KeeperOptions(WorkerRelay.InfoPath(settings, WorkerId)) { GiveUpAfter = TimeSpan.FromSeconds(Math.Max(1, settings.DeadWorkerSec - settings.HeartbeatSec)) }
                : null,
        };
        var started = new TaskCompletionSource<WorkerInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = WorkerHost.RunAsync(settings, options, info => started.TrySetResult(info), CancelToken);
        WriteObject(RunBlocking(_ => Started.WhenStartedAsync(run, started.Task)));
        RunBlocking(_ => run);
    }

    /// <summary>How the worker starts a warm runner for script-block jobs: this pwsh, without a profile, loading Goq.Runner.</summary>
    private static string[] ScriptRunnerCommand(string pwsh)
    {
        var assembly = typeof(Goq.Runner.RunnerMain).Assembly.Location.Replace("'", "''");
        return [pwsh, "-NoProfile", "-NonInteractive", "-NoLogo", "-Command", $"Add-Type -LiteralPath '{assembly}'; exit [Goq.Runner.RunnerMain]::Run()"];
    }
}
