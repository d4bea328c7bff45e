using System.Security.Cryptography;
using System.Text.Json;
using Goq.Errors;

namespace Goq.Protocol;

/// <summary>
/// Turns envelopes into frame bytes and back. Decoding never throws anything but <see cref="GoqException"/>
/// with <see cref="GoqErrorIds.MalformedMessage"/>, so a hostile frame can only ever be counted and dropped.
/// </summary>
public static class FrameCodec
{
    /// <summary>Largest message accepted, at the socket and here (output chunks stay far below it).</summary>
    public const int MaxMessageBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Largest job a client may submit: its spec and environment as JSON. Half a message, so a dispatch (the spec,
    /// its environment and a list of acks) and any reply holding the job always fit in one message.
    /// </summary>
    public const int MaxJobBytes = MaxMessageBytes / 2;

    public static byte[] Encode(GoqMessage body, long rid = 0) => Encode(body, rid, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>Encodes with the sender's clock reading <paramref name="sentAtMs"/> (Unix milliseconds).</summary>
    public static byte[] Encode(GoqMessage body, long rid, long sentAtMs, bool more = false) =>
        JsonSerializer.SerializeToUtf8Bytes(new Envelope(Envelope.CurrentVersion, sentAtMs, NewNonce(), rid, body, more ? true : null), GoqJson.Envelope);

    public static Envelope Decode(ReadOnlySpan<byte> frame)
    {
        if (frame.Length == 0 || frame.Length > MaxMessageBytes)
        {
            throw Malformed($"a frame of {frame.Length} bytes");
        }

        Envelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(frame, GoqJson.Envelope);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw Malformed(ex.Message, ex);
        }

        if (envelope?.Body is null)
        {
            throw Malformed("an envelope without a message");
        }

        if (envelope.V != Envelope.CurrentVersion)
        {
            throw new GoqException(GoqErrorIds.ProtocolVersionMismatch, GoqErrorKind.InvalidOperation,
                $"the peer speaks protocol version {envelope.V}; this build speaks {Envelope.CurrentVersion}");
        }

        return envelope;
    }

    private static string NewNonce() => Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    private static GoqException Malformed(string what, Exception? inner = null) =>
        new(GoqErrorIds.MalformedMessage, GoqErrorKind.InvalidData, $"malformed message: {what}", inner);
}
