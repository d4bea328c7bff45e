using System.Management.Automation;
using System.Net;
using Goq.Configuration;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Writes what another host needs to join this home's cluster (config, cluster secret, server public key) to a zip
/// file, 0600; Import-GoqHome unpacks it there. Never the server's secret key, the database, logs or run files.
/// </summary>
[Cmdlet(VerbsData.Export, "GoqHome", SupportsShouldProcess = true)]
[OutputType(typeof(HomeArchiveInfo))]
public sealed class ExportGoqHomeCommand : GoqCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    [ValidateSet("Worker", "Client", "Server")]
    public string Role { get; set; } = "Worker";

    protected override void EndProcessing()
    {
        var settings = OrTerminate(() => LoadSettings());
        var file = ProviderPathOf(Path);
        if (!ShouldProcess(file, "Write the home archive (it holds the cluster secret)"))
        {
            return;
        }

        var written = OrTerminate(() => HomeArchive.Export(settings, file, Role));
        if (IsLoopback(settings.ServerHost))
        {
            WriteWarning($"the home names its server as '{settings.ServerHost}', which other hosts cannot reach; "
                + "run Initialize-GoqHome -ServerHost <this host's name> -Force (new keys), or set serverHost in .goq/config.json, and export again");
        }

        WriteObject(written);
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
