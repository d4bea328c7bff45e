using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Goq.Configuration;

/// <summary>An entry of a cluster's server list: "host:port" (a bracketed IPv6 address allowed).</summary>
public static class ServerEntry
{
    /// <summary>The entry's host and port.</summary>
    /// <exception cref="JsonException">Not "host:port" with a port from 1 to 65535.</exception>
    public static (string Host, int Port) Parse(string entry)
    {
        var colon = entry.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new JsonException($"the server entry '{entry}' is not host:port (e.g. 'h1:1776')");
        }

        return (entry[..colon], port);
    }

    /// <summary>
    /// The port of the entry that names this host, when exactly one does: what a server started without -Port serves
    /// on. Null when none or several do (then -Port, GOQ_JSERV_PORT or the config's Port decides).
    /// </summary>
    public static int? OwnPort(IReadOnlyList<string> servers)
    {
        if (servers.Count < 2)
        {
            return null;
        }

        var own = servers.Select(Parse).Where(s => IsThisHost(s.Host)).ToList();
        return own.Count == 1 ? own[0].Port : null;
    }

    /// <summary>
    /// This server's own entry of a list of several, by its port: the one entry with that port, else among several
    /// with it (h1:1776, h2:1776) the one naming this host. Null with fewer than two servers or none found.
    /// </summary>
    public static (string Host, int Port)? Own(IReadOnlyList<string> servers, int port)
    {
        if (servers.Count < 2)
        {
            return null;
        }

        var withPort = servers.Select(Parse).Where(s => s.Port == port).ToList();
        return withPort.Count switch
        {
            0 => null,
            1 => withPort[0],
            _ => withPort.Where(s => IsThisHost(s.Host)).Cast<(string, int)?>().FirstOrDefault(),
        };
    }

    /// <summary>Whether <paramref name="host"/> names this machine (its name, or one of its addresses other than loopback).</summary>
    public static bool IsThisHost(string host)
    {
        if (host.Equals(Environment.MachineName, StringComparison.OrdinalIgnoreCase)
            || host.Equals(Dns.GetHostName(), StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && !IPAddress.IsLoopback(address)
            && Dns.GetHostAddresses(Dns.GetHostName()).Contains(address);
    }
}
