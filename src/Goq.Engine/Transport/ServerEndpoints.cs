using NetMQ;

namespace Goq.Transport;

/// <summary>
/// How clients and workers reach a cluster of several servers, one serving: one socket connected to every server's
/// endpoint (the settings' Endpoint lists them, comma-separated). Only the serving server binds its port, so only its
/// connection completes; a message waits for a completed connection instead of queueing on one that never completes
/// (DelayAttachOnConnect); and ZMTP heartbeats drop a connection whose server stopped answering (paused, or its host
/// gone without a reset), so messages go on to the server that took over. One endpoint: the socket as it always was.
/// </summary>
public static class ServerEndpoints
{
    /// <summary>How often a connection to a server is pinged, and how long it may go unanswered before it is dropped.</summary>
    public static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(1), DropAfter = TimeSpan.FromSeconds(3);

    public static IReadOnlyList<string> Split(string endpoint) =>
        endpoint.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether <paramref name="endpoint"/> names several servers.</summary>
    public static bool AreSeveral(string endpoint) => endpoint.Contains(',');

    /// <summary>Connects <paramref name="socket"/> to the server, or to every server of a list.</summary>
    public static void Connect(NetMQSocket socket, string endpoint)
    {
        var endpoints = Split(endpoint);
        if (endpoints.Count > 1)
        {
            socket.Options.DelayAttachOnConnect = true;
            socket.Options.HeartbeatInterval = PingEvery;
            socket.Options.HeartbeatTimeout = DropAfter;
        }

        foreach (var one in endpoints)
        {
            socket.Connect(one);
        }
    }
}
