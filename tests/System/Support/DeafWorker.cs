using Goq.Protocol;
using Goq.Tests.Support;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.SystemTests.Support;

/// <summary>goq's deafworker: announces itself once, takes a job, then never says anything again (until told to).</summary>
internal sealed class DeafWorker : IDisposable
{
    private readonly DealerSocket _socket;
    private readonly WireCodec _wire;

    public DeafWorker(string endpoint, global::Goq.Configuration.ClusterCredentials credentials, string id = "deaf")
    {
        Id = id;
        _wire = new WireCodec(credentials.Secret, TimeSpan.FromMinutes(3));
        _socket = RawMessages.Socket(endpoint, credentials);
        Send(new WorkerHello(id, "deafhost", 1, 1, [], "test", false));
    }

    public string Id { get; }

    /// <summary>Waits for the server to hand us a job.</summary>
    public DispatchJob ReceiveDispatch(TimeSpan timeout) => Receive<DispatchJob>(timeout);

    /// <summary>Waits for the next message of a kind, skipping others (hello replies and the like).</summary>
    public T Receive<T>(TimeSpan timeout)
        where T : GoqMessage
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var message = new NetMQMessage();
            if (_socket.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message) && _wire.Open(message, 0).Body is T wanted)
            {
                return wanted;
            }
        }

        throw new TimeoutException($"the deaf worker got no {typeof(T).Name}");
    }

    public void Send(GoqMessage message) => _socket.SendMultipartMessage(_wire.ToServer(message));

    public void Dispose() => _socket.Dispose();
}
