using System.Management.Automation;
using Goq.Hosting;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Starts the home's server: detached (it outlives this session; returns once it answers) or, with -Wait, here
/// until Ctrl+C or Stop-GoqServer.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "GoqServer")]
[OutputType(typeof(ServerInfo))]
public sealed class StartGoqServerCommand : GoqCmdlet
{
    [Parameter]
    [ValidateRange(0, 65535)]
    public int? Port { get; set; }

    /// <summary>Serve Prometheus metrics (GET /metrics) and the dashboard (GET /) on this port (else GOQ_METRICS_PORT, config MetricsPort).</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int? MetricsPort { get; set; }

    /// <summary>The address the metrics port listens on (else GOQ_METRICS_ADDRESS, config MetricsAddress, 127.0.0.1).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MetricsAddress { get; set; }

    /// <summary>Run the server in this process until Ctrl+C or Stop-GoqServer.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override void EndProcessing()
    {
        var settings = OrTerminate(() => LoadSettings(Port)).WithMetrics(MetricsPort, MetricsAddress);
        if (!Wait)
        {
            var info = RunBlocking(token => Launcher.StartServerAsync(settings, RoleCommands, token));
            if (info.StoreUnavailable is { } why)
            {
                WriteWarning($"the server runs but cannot store changes: {why}. It refuses them (GoqStoreUnavailable) until it can, and then takes them again by itself");
            }

            WriteObject(info);
            WriteMonitorHint(info, withToken: true);
            return;
        }

        // The server announces itself from its own thread; the object is written here, on the pipeline thread.
        var started = new TaskCompletionSource<ServerInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = ServerHost.RunAsync(settings, info => started.TrySetResult(info), CancelToken);
        var running = RunBlocking(_ => Started.WhenStartedAsync(run, started.Task));
        WriteObject(running);
        // In the foreground it is most often a service, whose messages go to a journal others read: no token there.
        WriteMonitorHint(running, withToken: false);
        RunBlocking(_ => run);
    }

    /// <summary>Where the metrics and the dashboard are, as a host message (the PSHOST tag; -InformationAction Ignore hides it).</summary>
    private void WriteMonitorHint(ServerInfo info, bool withToken)
    {
        if (info.MetricsUrl is null)
        {
            return;
        }

        var dashboard = withToken && info.DashboardUrl is not null
            ? $"the dashboard at {info.DashboardUrl}"
            : "the dashboard's address with its token: (Get-GoqServer -Detailed).DashboardUrl";
        WriteInformation(new HostInformationMessage { Message = $"Metrics at {info.MetricsUrl}; {dashboard}" }, ["PSHOST"]);
    }
}
