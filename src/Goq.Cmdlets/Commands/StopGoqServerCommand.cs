using System.Management.Automation;
using Goq.Errors;
using Goq.Hosting;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Stops the home's server gracefully; returns once its process has exited. With -Force, a server on this host that
/// does not answer is killed by its recorded pid (checked against its start time). With -IncludeWorkers, the workers
/// the server knows of are stopped first (as Stop-GoqWorker does), so none is left without a server. Asks first
/// (ConfirmImpact High): scripts pass -Confirm:$false.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "GoqServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ServerStatus))]
public sealed class StopGoqServerCommand : GoqClientCmdlet
{
    /// <summary>Write the server's last status.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Kill a server on this host that does not answer (by its recorded pid).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// First stop every worker the server knows of (their running jobs are killed and stay queued) and wait until they
    /// have left (at most a minute; Ctrl+C stops waiting), then the server.
    /// </summary>
    [Parameter]
    public SwitchParameter IncludeWorkers { get; set; }

    /// <summary>
    /// With several servers, the one of this port on this host: a standby is stopped with SIGTERM (it answers no
    /// requests); the active one as usual, after which a standby takes over at once.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    protected override void EndProcessing()
    {
        if (!ShouldProcess(Settings.Endpoint, IncludeWorkers ? "Stop Goq server and its workers" : "Stop Goq server"))
        {
            return;
        }

        if (Port is { } port && OrTerminate(() => LoadSettings(port)) is { Servers.Count: > 1 } own)
        {
            if (ServerHost.RecordedLiveServer(own) is null)
            {
                // Never another host's server in its place: the one asked for does not run here.
                ThrowTerminatingError(ErrorRecordFactory.Create(GoqErrorIds.ServerNotRunning, GoqErrorKind.Connection,
                    $"no Goq server of port {port} runs on this host for home '{own.Home}'", own.OwnEndpoint));
            }

            if (RunBlocking(token => Launcher.StopLocalStandbyAsync(own, token)) is { } standby)
            {
                WriteVerbose($"stopped the standby server of port {port} (pid {standby})");
                return;
            }
        }

        ServerStatus status;
        try
        {
            status = RunBlocking(token => Launcher.StopServerAsync(Client, token, IncludeWorkers), handled: CanKill);
        }
        catch (GoqException ex)
        {
            var killed = RunBlocking(token => Launcher.KillServerAsync(Settings, token));
            if (killed is null)
            {
                ThrowTerminatingError(ErrorRecordFactory.From(ex));
            }

            WriteWarning($"the server did not answer ({ex.Message}); its process {killed} was killed");
            return;
        }

        if (PassThru)
        {
            WriteObject(status);
        }
    }

    // -Force kills a server that does not answer; workers that did not leave are no reason to kill it (see
    // WorkersNotStopped).
    private bool CanKill(GoqException ex) =>
        Force && ex.ErrorId != GoqErrorIds.WorkersNotStopped && ex.Kind is GoqErrorKind.Connection or GoqErrorKind.Timeout;
}
