using Goq.Configuration;
using NetMQ;

namespace Goq.Transport;

/// <summary>
/// CURVE on every socket: the server with its key pair; workers and clients with the server's public key and a key
/// pair of their own, made fresh for each socket. This encrypts all traffic and proves the server's identity; the
/// cluster secret (see <see cref="WireCodec"/>) is what proves the clients', since NetMQ has no ZAP.
/// </summary>
public static class CurveSetup
{
    public static void AsServer(NetMQSocket socket, ClusterCredentials credentials)
    {
        var secretKey = credentials.ServerSecretKey
            ?? throw new ArgumentException("the server's credentials must include its CURVE secret key", nameof(credentials));
        socket.Options.CurveServer = true;
        socket.Options.CurveCertificate = new NetMQCertificate(secretKey, credentials.ServerPublicKey);
    }

    public static void AsClient(NetMQSocket socket, ClusterCredentials credentials)
    {
        socket.Options.CurveServerKey = credentials.ServerPublicKey;
        socket.Options.CurveCertificate = new NetMQCertificate();
    }
}
