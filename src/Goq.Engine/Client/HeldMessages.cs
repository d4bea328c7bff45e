using System.Diagnostics;
using NetMQ;

namespace Goq.Client;

/// <summary>
/// A client's messages no server has taken yet: with several servers listed, a message waits for a completed
/// connection to the one that serves (a take-over in progress), in order, and is sent again every
/// <see cref="RetryEvery"/> until its request would have timed out; then it is dropped, so a late server never acts on a
/// request that was reported failed. Owned by the client's poller thread, which polls <see cref="Timer"/>.
/// </summary>
internal sealed class HeldMessages
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(20);

    private readonly Func<NetMQMessage, bool> _send;
    private readonly TimeSpan _maxAge;
    private readonly Queue<(NetMQMessage Message, long HeldAt)> _queue = new();

    /// <param name="send">Sends a message; false when no server took it.</param>
    /// <param name="maxAge">How long a message is held at most: its request's time-out.</param>
    public HeldMessages(Func<NetMQMessage, bool> send, TimeSpan maxAge)
    {
        _send = send;
        _maxAge = maxAge;
        Timer = new NetMQTimer(RetryEvery) { Enable = false };
        Timer.Elapsed += (_, _) => SendHeld();
    }

    /// <summary>Enabled while messages are held; its ticks send them again.</summary>
    public NetMQTimer Timer { get; }

    /// <summary>Sends <paramref name="message"/> now, or holds it (behind any held already, keeping their order).</summary>
    public void Send(NetMQMessage message)
    {
        if (_queue.Count == 0 && _send(message))
        {
            return;
        }

        _queue.Enqueue((message, Stopwatch.GetTimestamp()));
        Timer.Enable = true;
    }

    private void SendHeld()
    {
        while (_queue.TryPeek(out var held))
        {
            if (Stopwatch.GetElapsedTime(held.HeldAt) > _maxAge)
            {
                _queue.Dequeue(); // its request has failed by now
            }
            else if (_send(held.Message))
            {
                _queue.Dequeue();
            }
            else
            {
                return;
            }
        }

        Timer.Enable = false;
    }
}
