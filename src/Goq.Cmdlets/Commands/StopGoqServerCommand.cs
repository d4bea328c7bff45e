using System.Management.Automation;
using Goq.Hosting;

namespace Goq.Cmdlets.Commands;

/// <summary>Stops the home's server gracefully; returns once its process has exited.</summary>
[Cmdlet(VerbsLifecycle.Stop, "GoqServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ServerStatus))]
public sealed class StopGoqServerCommand : GoqClientCmdlet
{
    /// <summary>Write the server's last status.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        if (!ShouldProcess(Settings.Endpoint, "Stop Goq server"))
        {
            return;
        }

        var status = RunBlocking(token => Launcher.StopServerAsync(Client, token));
        if (PassThru)
        {
            WriteObject(status);
        }
    }
}
