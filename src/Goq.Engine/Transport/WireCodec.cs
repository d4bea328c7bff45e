using System.Security.Cryptography;
using Goq.Errors;
using Goq.Protocol;
using NetMQ;

namespace Goq.Transport;

/// <summary>
/// The wire layout, and the check of every message that arrives. DEALER side: [envelope JSON][MAC]; ROUTER side:
/// [peer identity][envelope JSON][MAC]; a large envelope's JSON is deflated (<see cref="PayloadPacking"/>). The MAC is
/// HMAC-SHA256 over the exact bytes sent, keyed by the cluster secret; the envelope inside carries the sender's clock
/// and a random nonce for the replay check.
/// Encoding is thread-safe; <see cref="Open"/> belongs to the thread that owns the socket (the replay guard has state).
/// </summary>
public sealed class WireCodec(byte[] secret, TimeSpan replayWindow, TimeProvider? clock = null)
{
    private const int MacBytes = 32;
    private readonly byte[] _secret = secret.ToArray();
    private readonly TimeProvider _clock = clock ?? Diagnostics.FaultInjection.Clock; // the system's clock, outside tests

    public ReplayGuard Replays { get; } = new(replayWindow);

    public NetMQMessage ToServer(GoqMessage body, long rid = 0) => ToServer(Encode(body, rid));

    /// <summary>The signed message for an envelope already encoded (see <see cref="Encode"/>).</summary>
    public NetMQMessage ToServer(byte[] payload)
    {
        var sent = PayloadPacking.Pack(payload);
        var message = new NetMQMessage(2);
        message.Append(sent);
        message.Append(Sign(sent));
        return message;
    }

    public NetMQMessage ToPeer(byte[] identity, GoqMessage body, long rid) => ToPeer(identity, Encode(body, rid));

    public NetMQMessage ToPeer(byte[] identity, byte[] payload)
    {
        var sent = PayloadPacking.Pack(payload);
        var message = new NetMQMessage(3);
        message.Append(identity);
        message.Append(sent);
        message.Append(Sign(sent));
        return message;
    }

    /// <summary>The envelope's bytes, stamped with this clock, so a sender can check the size before it sends.</summary>
    public byte[] Encode(GoqMessage body, long rid, bool more = false) => FrameCodec.Encode(body, rid, NowMs(), more);

    /// <summary>
    /// Checks and decodes [payload][mac] starting at frame <paramref name="first"/>. Throws a <see cref="GoqException"/>:
    /// <see cref="GoqErrorIds.MalformedMessage"/> for a frame that is not a message, <see cref="GoqErrorIds.BadSignature"/>
    /// for a MAC that does not match (checked before any JSON is parsed), <see cref="GoqErrorIds.ClockSkew"/> for a
    /// timestamp outside the window, <see cref="GoqErrorIds.ReplayedMessage"/> for a nonce seen before.
    /// </summary>
    public Envelope Open(NetMQMessage message, int first) => Open(message, first, out _);

    /// <param name="jsonBytes">The size of the envelope's JSON, inflated when it travelled packed.</param>
    public Envelope Open(NetMQMessage message, int first, out int jsonBytes)
    {
        if (message.FrameCount != first + 2)
        {
            throw new GoqException(GoqErrorIds.MalformedMessage, GoqErrorKind.InvalidData, $"malformed message: {message.FrameCount} frames");
        }

        var payload = message[first].Buffer.AsSpan(0, message[first].MessageSize);
        var mac = message[first + 1].Buffer.AsSpan(0, message[first + 1].MessageSize);
        if (payload.Length == 0 || payload.Length > FrameCodec.MaxMessageBytes)
        {
            throw new GoqException(GoqErrorIds.MalformedMessage, GoqErrorKind.InvalidData, $"malformed message: a frame of {payload.Length} bytes");
        }

        // Checkpoint (authentication): nothing unsigned reaches the JSON parser or the scheduler.
        Span<byte> expected = stackalloc byte[MacBytes];
        HMACSHA256.HashData(_secret, payload, expected);
        if (mac.Length != MacBytes || !CryptographicOperations.FixedTimeEquals(mac, expected))
        {
            throw new GoqException(GoqErrorIds.BadSignature, GoqErrorKind.Security, "a message was not signed with this cluster's secret");
        }

        var json = PayloadPacking.IsPacked(payload) ? PayloadPacking.Unpack(payload) : payload;
        jsonBytes = json.Length;
        var envelope = FrameCodec.Decode(json);

        // Checkpoint (replay): a captured message sent again, or an old one, is refused.
        var now = NowMs();
        if (Replays.IsOutsideWindow(envelope.SentAtMs, now))
        {
            throw new GoqException(GoqErrorIds.ClockSkew, GoqErrorKind.Security,
                $"a signed message was stamped {Math.Abs(now - envelope.SentAtMs) / 1000.0:0} s {(envelope.SentAtMs > now ? "ahead of" : "behind")} this host's clock, "
                + $"outside the {Replays.Window.TotalSeconds:0} s replay window: replayed, or the clocks are not in sync (NTP)");
        }

        if (Replays.Check(envelope.SentAtMs, envelope.Nonce, now) is { } why)
        {
            throw new GoqException(GoqErrorIds.ReplayedMessage, GoqErrorKind.Security, $"a message was refused: {why}");
        }

        return envelope;
    }

    private long NowMs() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private byte[] Sign(byte[] payload) => HMACSHA256.HashData(_secret, payload);
}
