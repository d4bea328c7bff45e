using System.Management.Automation;
using Goq.Client;
using Goq.Hosting;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Tells workers to exit: every idle one (-Idle, goq's immolateworkers) or those named by -Id (a whole id, a unique
/// prefix, or host/prefix as the job table shows it), and returns once the processes of those on this host have
/// exited. Without -Drain or -Force it asks before stopping a worker that runs jobs. With -Local, it stops this host's
/// workers of the home with or without a server (they are known from the home's run folder), with their job keepers.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "GoqWorker", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet)]
[OutputType(typeof(WorkerInfo))]
public sealed class StopGoqWorkerCommand : GoqClientCmdlet
{
    private const string IdSet = "Id";
    private const string IdleSet = "Idle";
    private const string LocalSet = "Local";
    private readonly List<string> _ids = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.GoqWorkerIdCompleter))]
    public string[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = IdleSet)]
    public SwitchParameter Idle { get; set; }

    /// <summary>
    /// Every worker of the home on this host (worker processes, their job keepers and runners), found from the home's
    /// run folder rather than asked of the server, so it works when the server has stopped (or never answers).
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = LocalSet)]
    public SwitchParameter Local { get; set; }

    /// <summary>A busy worker finishes its running jobs before it exits.</summary>
    [Parameter(ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = LocalSet)]
    public SwitchParameter Drain { get; set; }

    /// <summary>A busy worker kills its running jobs (they are queued again) and exits at once (the default).</summary>
    [Parameter(ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = LocalSet)]
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

    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(60);

    protected override void EndProcessing()
    {
        if (Local)
        {
            StopLocal();
            return;
        }

        if (!Idle && _ids.Count == 0)
        {
            return;
        }

        if (!Idle)
        {
            var connected = RunBlocking(token => Client.GetWorkersAsync(token));
            var resolved = new List<WorkerInfo>();
            foreach (var name in _ids.Distinct())
            {
                var found = WorkerMatch.Find(connected, name);
                if (found.Count == 1)
                {
                    resolved.Add(found[0]);
                    continue;
                }

                WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.WorkerNotFound, Errors.GoqErrorKind.NotFound, found.Count == 0
                    ? $"no connected worker with id '{name}'"
                    : $"'{name}' names {found.Count} workers ({string.Join(", ", found.Select(w => $"{w.Host}/{w.Id}"))}); give more of the id", name));
            }

            _workers = resolved.DistinctBy(w => w.Id).ToList();
            _ids.Clear();
            _ids.AddRange(_workers.Select(w => w.Id));
            if (_ids.Count == 0)
            {
                return;
            }
        }

        var target = Idle ? $"idle workers of {Settings.Endpoint}" : string.Join(", ", _workers.Select(w => $"{w.Host}/{w.Id}"));
        if (!ShouldProcess(target, "Stop Goq worker"))
        {
            return;
        }

        // Checkpoint: jobs are killed (and queued again) only when the user said so.
        var busy = _workers.Where(w => w.BusySlots > 0).ToList();
        if (!Restart && !Drain && !Force && busy.Count > 0 && !ShouldContinue(
                $"{string.Join(", ", busy.Select(w => $"{w.Host}/{w.Id[..Math.Min(8, w.Id.Length)]} runs {w.BusySlots} job(s)"))}: stopping kills them, and they are queued again. Use -Drain to let them finish first.",
                "Stop busy Goq workers?"))
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
                    // A worker that is gone or cannot restart here fails alone; the others still restart.
                    var restarted = RunBlocking(token => Launcher.RestartWorkerAsync(settings, id, RoleCommands, token),
                        handled: ex => ex.ErrorId is Errors.GoqErrorIds.WorkerNotFound or Errors.GoqErrorIds.WorkerRestartUnsupported);
                    if (PassThru)
                    {
                        WriteObject(restarted);
                    }
                }
                catch (Errors.GoqException ex)
                {
                    WriteGoqError(ex, id);
                }
            }

            return;
        }

        var reply = RunBlocking(token => Client.StopWorkersAsync(Idle, Idle ? null : _ids, Drain && !Force, token));
        foreach (var id in reply.Unknown)
        {
            WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.WorkerNotFound, Errors.GoqErrorKind.NotFound, $"no connected worker with id '{id}'", id));
        }

        WaitForExit(reply.Stopped);
        if (PassThru)
        {
            WriteObject(reply.Stopped, enumerateCollection: true);
        }
    }

    private List<WorkerInfo> _workers = [];

    /// <summary>-Local: as for -Id, the same questions and the same meaning of -Drain and -Force, without the server.</summary>
    private void StopLocal()
    {
        var settings = Settings;
        if (!ShouldProcess($"workers of home '{settings.Home}' on {Environment.MachineName}", "Stop Goq worker"))
        {
            return;
        }

        // Checkpoint: jobs are killed (and queued again) only when the user said so.
        var busy = LocalWorkers.Running(settings).Select(w => (w.WorkerId, Jobs: LocalWorkers.RunningJobs(settings, w.WorkerId))).Where(w => w.Jobs > 0).ToList();
        if (!Drain && !Force && busy.Count > 0 && !ShouldContinue(
                $"{string.Join(", ", busy.Select(w => $"{Environment.MachineName}/{w.WorkerId[..Math.Min(8, w.WorkerId.Length)]} runs {w.Jobs} job(s)"))}: stopping kills them, and they are queued again. Use -Drain to let them finish first.",
                "Stop busy Goq workers?"))
        {
            return;
        }

        var stopped = RunBlocking(token => LocalWorkers.StopAsync(settings, Drain && !Force, Drain && !Force ? Timeout.InfiniteTimeSpan : ExitWithin, token));
        if (PassThru)
        {
            WriteObject(stopped, enumerateCollection: true);
        }
    }

    /// <summary>Returns once the stopped workers of this host have exited (Ctrl+C stops waiting, not the stop).</summary>
    private void WaitForExit(IReadOnlyList<WorkerInfo> stopped)
    {
        var local = stopped.Where(w => string.Equals(w.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase) && w.Pid > 0).ToList();
        if (local.Count == 0)
        {
            return;
        }

        RunBlocking(async token =>
        {
            foreach (var worker in local)
            {
                await Launcher.WaitForExitAsync(worker.Pid, Drain ? Timeout.InfiniteTimeSpan : ExitWithin, token).ConfigureAwait(false);
            }
        });
    }
}
