using System.Net;
using System.Net.Sockets;
using Goq.Configuration;
using Goq.Errors;

namespace Goq.Client;

/// <summary>
/// Tells at once that no server listens when the home's server is on this host: a refused TCP connection needs no
/// waiting, where a request would only fail after its time-out. Remote servers are not probed (a refused connection
/// there can be a firewall's; their requests time out after GOQ_CONNECT_TIMEOUT_SEC), nor is a list of servers (one
/// down is a standby's or a dead server's, while another serves).
/// </summary>
public static class ServerProbe
{
    private static readonly TimeSpan ConnectWithin = TimeSpan.FromMilliseconds(500);

    public static bool IsLocal(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.Equals(Environment.MachineName, StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var address) && (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any)));

    /// <summary>Throws GoqServerNotRunning when the home's server is local and nothing listens on its port.</summary>
    public static void ThrowIfNotListening(GoqSettings settings)
    {
        if (!IsLocal(settings.ServerHost) || settings.Servers.Count > 1)
        {
            return;
        }

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            var host = IPAddress.TryParse(settings.ServerHost, out var address) && !address.Equals(IPAddress.Any) ? address : IPAddress.Loopback;
            using var timeout = new CancellationTokenSource(ConnectWithin);
            socket.ConnectAsync(new IPEndPoint(host, settings.Port), timeout.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            throw new GoqException(GoqErrorIds.ServerNotRunning, GoqErrorKind.Connection,
                $"no Goq server runs for home '{settings.Home}' (nothing listens on {settings.Endpoint})")
            { Target = settings.Endpoint };
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // Something else (busy, filtered): let the request find out, with its own time-out.
        }
    }
}
