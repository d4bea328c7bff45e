using NetMQ;
using NetMQ.Sockets;

namespace Goq.Transport;

/// <summary>
/// How clients and workers reach a cluster of several servers, one serving: a socket of their own to each server's
/// endpoint (the settings' Endpoint lists them, comma-separated), and every message sent on each socket whose
/// connection is up (<see cref="ServerLink"/>). Only the serving server binds its port and answers. A message for a
/// server that is not there waits for no connection (DelayAttachOnConnect); one that went to a paused server (its
/// kernel still accepts connections, its process reads nothing) is lost with that socket's queue, never holding up
/// the copy the serving server got: round-robin over one socket would send half the messages into such a server.
/// ZMTP heartbeats drop a connection whose server stopped answering. One endpoint: one socket, as it always was.
/// </summary>
public static class ServerEndpoints
{
    /// <summary>How often a connection to a server is pinged, and how long it may go unanswered before it is dropped.</summary>
    public static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(1), DropAfter = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How many messages a socket to one of several servers queues at most: what a paused server's socket may hold
    /// (each copy is memory of ours) before further copies are dropped.
    /// </summary>
    public const int SeveralServersHighWatermark = 1000;

    public static IReadOnlyList<string> Split(string endpoint) =>
        endpoint.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether <paramref name="endpoint"/> names several servers.</summary>
    public static bool AreSeveral(string endpoint) => endpoint.Contains(',');

    /// <summary>Prepares a socket to one of several servers (see the type's summary).</summary>
    public static void ForOneOfSeveral(NetMQSocket socket)
    {
        socket.Options.DelayAttachOnConnect = true;
        socket.Options.HeartbeatInterval = PingEvery;
        socket.Options.HeartbeatTimeout = DropAfter;
        socket.Options.SendHighWatermark = Math.Min(socket.Options.SendHighWatermark, SeveralServersHighWatermark);
        socket.Options.ReconnectIntervalMax = TimeSpan.FromSeconds(1); // a server coming up is found within a second, without a storm meanwhile
    }
}

/// <summary>
/// The sockets to the server, or to each of several (see <see cref="ServerEndpoints"/>). <see cref="TrySend"/> sends a
/// message on every socket; replies come on whichever socket the serving server's connection is. Owned by the thread
/// that polls its sockets.
/// </summary>
public sealed class ServerLink : IDisposable
{
    private readonly DealerSocket[] _sockets;
    private readonly IReadOnlyList<string> _endpoints;

    /// <param name="endpoint">The server's endpoint, or several, comma-separated.</param>
    /// <param name="configure">Sets up each socket (keys, sizes, its receive handler) before it connects.</param>
    /// <param name="first">A socket made already, to use for the first endpoint.</param>
    public ServerLink(string endpoint, Action<DealerSocket> configure, DealerSocket? first = null)
    {
        _endpoints = ServerEndpoints.Split(endpoint);
        _sockets = new DealerSocket[Math.Max(1, _endpoints.Count)];
        for (var i = 0; i < _sockets.Length; i++)
        {
            var socket = i == 0 && first is not null ? first : new DealerSocket();
            if (i > 0 || first is null)
            {
                configure(socket);
            }

            if (_endpoints.Count > 1)
            {
                ServerEndpoints.ForOneOfSeveral(socket);
            }

            _sockets[i] = socket;
        }
    }

    public IReadOnlyList<DealerSocket> Sockets => _sockets;

    /// <summary>Connects each socket to its server.</summary>
    public void Connect()
    {
        for (var i = 0; i < _endpoints.Count; i++)
        {
            _sockets[i].Connect(_endpoints[i]);
        }
    }

    /// <summary>Sends <paramref name="message"/> on every socket that takes it now; false when none did.</summary>
    public bool TrySend(NetMQMessage message)
    {
        if (_sockets.Length == 1)
        {
            return _sockets[0].TrySendMultipartMessage(message);
        }

        var sent = false;
        for (var i = 0; i < _sockets.Length; i++)
        {
            // Sending takes a message's frames: every socket but the last gets a copy.
            var copy = i == _sockets.Length - 1 ? message : new NetMQMessage(message.Select(frame => frame.Duplicate()));
            sent |= _sockets[i].TrySendMultipartMessage(copy);
        }

        return sent;
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }
}
