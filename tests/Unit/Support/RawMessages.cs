using Goq.Configuration;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.Tests.Support;

/// <summary>Hand-made wire messages and sockets, for tests that talk to a server the way no Goq client would.</summary>
internal static class RawMessages
{
    public static NetMQMessage Of(params byte[][] frames)
    {
        var message = new NetMQMessage();
        foreach (var frame in frames)
        {
            message.Append(frame);
        }

        return message;
    }

    /// <summary>[payload][HMAC-SHA256 of it]: what a holder of <paramref name="secret"/> would send, whatever the payload.</summary>
    public static NetMQMessage Signed(byte[] secret, byte[] payload) =>
        Of(payload, System.Security.Cryptography.HMACSHA256.HashData(secret, payload));

    public static NetMQMessage Copy(NetMQMessage message) => Of(message.Select(f => f.ToByteArray()).ToArray());

    /// <summary>A DEALER that gets through CURVE to the server (and no further unless it signs what it sends).</summary>
    public static DealerSocket Socket(string endpoint, ClusterCredentials credentials, int sendHighWatermark = 1000)
    {
        var socket = new DealerSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.SendHighWatermark = sendHighWatermark;
        CurveSetup.AsClient(socket, credentials);
        socket.Connect(endpoint);
        return socket;
    }
}
