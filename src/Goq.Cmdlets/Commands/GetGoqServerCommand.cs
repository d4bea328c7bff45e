using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// The server's counters and queue lengths (goq's stat), with its role (Active), epoch and store. With -All, one
/// object for every configured server: the active one whole, the others with their role (Standby, or Down when not
/// heard from within a lease) and where the active server is.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GoqServer")]
[OutputType(typeof(ServerStatus))]
public sealed class GetGoqServerCommand : GoqClientCmdlet
{
    /// <summary>Adds uptime, the store's size and path, and the log's path.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    /// <summary>Every configured server and its role, the active one first.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void EndProcessing()
    {
        var status = RunBlocking(token => Client.GetStatusAsync(token, countStates: true, detailed: Detailed, all: All));
        WriteObject(status);
        if (!All || status.Servers is not { } servers)
        {
            return;
        }

        var active = servers.FirstOrDefault(s => s.Role == "Active")?.Endpoint ?? status.Endpoint;
        foreach (var other in servers.Where(s => s.Role != "Active"))
        {
            WriteObject(new ServerStatus
            {
                Endpoint = other.Endpoint, Role = other.Role, ActiveServer = active, Store = status.Store, Home = status.Home, Version = "",
                ServerHost = other.Endpoint.Replace("tcp://", "", StringComparison.Ordinal).Split(':')[0],
            });
        }
    }
}
