using Goq.Protocol;
using NetMQ;

namespace Goq.Transport;

/// <summary>
/// The wire layout. DEALER side: [envelope JSON][MAC]. ROUTER side: [peer identity][envelope JSON][MAC].
/// The MAC frame is empty until message signing lands; the decoder already expects it.
/// </summary>
public static class Frames
{
    public static NetMQMessage ToServer(GoqMessage body, long rid = 0)
    {
        var message = new NetMQMessage(2);
        message.Append(FrameCodec.Encode(body, rid));
        message.AppendEmptyFrame();
        return message;
    }

    public static NetMQMessage ToPeer(byte[] identity, byte[] payload)
    {
        var message = new NetMQMessage(3);
        message.Append(identity);
        message.Append(payload);
        message.AppendEmptyFrame();
        return message;
    }

    /// <summary>Decodes [payload][mac] starting at frame <paramref name="first"/>; throws GoqException if malformed.</summary>
    public static Envelope Decode(NetMQMessage message, int first)
    {
        if (message.FrameCount != first + 2)
        {
            throw new Errors.GoqException(Errors.GoqErrorIds.MalformedMessage, Errors.GoqErrorKind.InvalidData,
                $"malformed message: {message.FrameCount} frames");
        }

        return FrameCodec.Decode(message[first].Buffer.AsSpan(0, message[first].MessageSize));
    }
}
