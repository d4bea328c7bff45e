using System.Security.Cryptography;
using Goq.Errors;
using Goq.Protocol;
using NetMQ;

namespace Goq.Transport;

/// <summary>
/// The wire layout, and the check of every message that arrives. DEALER side: [envelope JSON][signature]; ROUTER side:
/// [peer identity][envelope JSON][signature]; a large envelope's JSON is deflated (<see cref="PayloadPacking"/>). The
/// signature is HMAC-SHA256 over the exact bytes sent: 32 bytes keyed by the cluster secret, or, from and to a user of
/// a multi-user cluster, that user's 8-byte key id followed by the MAC keyed by their key (<see cref="Identity.UserKey"/>).
/// The server finds a user's key from the id alone (<see cref="IKeyRing"/>): who sent a message is the key that
/// signed it, never what the message says. The envelope inside carries the sender's clock and a random nonce for the
/// replay check.
/// Encoding is thread-safe; <see cref="Open"/> belongs to the thread that owns the socket (the replay guard has state).
/// </summary>
/// <param name="secret">The key this end signs with: the cluster secret, or a user's key.</param>
/// <param name="keyId">A user key's id (then <paramref name="secret"/> is that key); null for the cluster secret.</param>
/// <param name="keys">The server's: finds a user's key by its id. Without it only <paramref name="secret"/> is taken.</param>
public sealed class WireCodec(byte[] secret, TimeSpan replayWindow, TimeProvider? clock = null, byte[]? keyId = null, IKeyRing? keys = null)
{
    private const int MacBytes = 32;
    private readonly byte[] _secret = secret.ToArray();
    private readonly byte[]? _keyId = keyId?.ToArray();
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

    /// <param name="key">The user key the peer signs with, to sign with it (a user holds no other); null: this end's own.</param>
    public NetMQMessage ToPeer(byte[] identity, byte[] payload, SigningKey? key = null)
    {
        var sent = PayloadPacking.Pack(payload);
        var message = new NetMQMessage(3);
        message.Append(identity);
        message.Append(sent);
        message.Append(key is { } k ? Sign(sent, k.Key, k.KeyId) : Sign(sent));
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
    public Envelope Open(NetMQMessage message, int first) => Open(message, first, out _, out _);

    /// <param name="jsonBytes">The size of the envelope's JSON, inflated when it travelled packed.</param>
    /// <param name="signer">The user key that signed it (found by <see cref="IKeyRing"/>); null for the cluster secret.</param>
    public Envelope Open(NetMQMessage message, int first, out int jsonBytes, out SigningKey? signer)
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
        var key = _secret;
        signer = null;
        if (mac.Length == Identity.UserKey.KeyIdBytes + MacBytes)
        {
            var id = mac[..Identity.UserKey.KeyIdBytes];
            mac = mac[Identity.UserKey.KeyIdBytes..];
            if (keys is not null)
            {
                signer = keys.Find(id, NowMs()); // throws for an unknown or revoked key
                key = signer.Value.Key;
            }
            else if (_keyId is null || !id.SequenceEqual(_keyId))
            {
                throw new GoqException(GoqErrorIds.BadSignature, GoqErrorKind.Security, "a message was signed with a user key that is not this end's");
            }
        }

        Span<byte> expected = stackalloc byte[MacBytes];
        HMACSHA256.HashData(key, payload, expected);
        if (mac.Length != MacBytes || !CryptographicOperations.FixedTimeEquals(mac, expected))
        {
            throw new GoqException(GoqErrorIds.BadSignature, GoqErrorKind.Security,
                signer is not null ? "a message named a user key but was not signed with it" : "a message was not signed with this cluster's secret");
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

    private byte[] Sign(byte[] payload) => Sign(payload, _secret, _keyId);

    private static byte[] Sign(byte[] payload, byte[] key, byte[]? keyId)
    {
        if (keyId is null)
        {
            return HMACSHA256.HashData(key, payload);
        }

        var signature = new byte[keyId.Length + MacBytes];
        keyId.CopyTo(signature, 0);
        HMACSHA256.HashData(key, payload, signature.AsSpan(keyId.Length));
        return signature;
    }
}

/// <summary>
/// A user's key and its id, as the server signs and checks that user's messages with it; <paramref name="Revoked"/>: the
/// message is authentic, and refused (its sender is told, in a reply they can verify).
/// </summary>
public readonly record struct SigningKey(byte[] KeyId, byte[] Key, Identity.Principal Principal, bool Revoked = false);

/// <summary>The server's keys of its users, found by the id a message names.</summary>
public interface IKeyRing
{
    /// <summary>
    /// The key of <paramref name="keyId"/>, revoked or not. Throws a <see cref="GoqException"/>
    /// (<see cref="GoqErrorIds.BadSignature"/>) for an id the server never gave.
    /// </summary>
    SigningKey Find(ReadOnlySpan<byte> keyId, long nowMs);
}
