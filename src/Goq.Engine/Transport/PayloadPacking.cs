using System.IO.Compression;
using Goq.Errors;
using Goq.Protocol;

namespace Goq.Transport;

/// <summary>
/// Large envelopes travel deflated: a page of Get-GoqJob (a few hundred kB of job records that repeat their field
/// names and most values) shrinks about eightfold, and everything after the JSON costs by the byte: the HMAC, the CURVE
/// box (managed XSalsa20-Poly1305, the largest cost of a listing on both sides), the socket reads that each wake a
/// thread, the buffers. A packed payload is a 0 byte (no JSON text starts with one) and raw deflate; a small one, or
/// one that does not shrink (random output), is sent as it is. The MAC covers the bytes as sent, so nothing is
/// inflated before it is known to come from the cluster, and never beyond <see cref="FrameCodec.MaxMessageBytes"/>.
/// </summary>
public static class PayloadPacking
{
    /// <summary>Smaller envelopes are not worth the deflating: their cost is per message, not per byte.</summary>
    public const int PackFrom = 16 * 1024;

    private const byte PackedMark = 0;

    public static bool IsPacked(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == PackedMark;

    /// <summary>The bytes to send for an envelope's JSON: packed when that makes them at least a tenth smaller.</summary>
    public static byte[] Pack(byte[] json)
    {
        if (json.Length < PackFrom)
        {
            return json;
        }

        using var packed = new MemoryStream(json.Length / 4);
        packed.WriteByte(PackedMark);
        using (var deflate = new DeflateStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(json);
        }

        return packed.Length < json.Length - json.Length / 10 ? packed.ToArray() : json;
    }

    /// <summary>
    /// The JSON of a packed payload (one that <see cref="IsPacked"/>). Throws <see cref="GoqErrorIds.MalformedMessage"/>
    /// for data that is not deflate or inflates beyond a message's size.
    /// </summary>
    public static byte[] Unpack(ReadOnlySpan<byte> payload)
    {
        try
        {
            using var source = new MemoryStream(payload[1..].ToArray(), writable: false);
            using var inflate = new DeflateStream(source, CompressionMode.Decompress);
            var json = new byte[Math.Min(FrameCodec.MaxMessageBytes + 1, Math.Max(4096, payload.Length * 12))];
            var length = 0;
            int read;
            while ((read = inflate.Read(json, length, json.Length - length)) > 0)
            {
                length += read;
                if (length == json.Length)
                {
                    // Checkpoint (sizes): a packed message may not hold more than an unpacked one could.
                    if (json.Length > FrameCodec.MaxMessageBytes)
                    {
                        throw Malformed($"it inflates beyond {FrameCodec.MaxMessageBytes:N0} bytes");
                    }

                    Array.Resize(ref json, Math.Min(FrameCodec.MaxMessageBytes + 1, json.Length * 2));
                }
            }

            if (length == 0)
            {
                throw Malformed("it inflates to nothing");
            }

            Array.Resize(ref json, length);
            return json;
        }
        catch (InvalidDataException ex)
        {
            throw Malformed($"it is not deflate data ({ex.Message})");
        }
    }

    private static GoqException Malformed(string why) => new(GoqErrorIds.MalformedMessage, GoqErrorKind.InvalidData, $"malformed message: a packed payload, but {why}");
}
