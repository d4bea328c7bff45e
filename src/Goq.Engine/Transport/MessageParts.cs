using Goq.Errors;
using Goq.Protocol;

namespace Goq.Transport;

/// <summary>
/// Encodes a message as one or more envelopes that each fit in a message (<see cref="FrameCodec.MaxMessageBytes"/>):
/// a list reply too large for one is halved until its parts fit. Parts of a reply carry <c>More</c> but the last;
/// with <c>standalone</c> (notices) every part is a message of its own. Only an oversize message that cannot be
/// split (one item too large) becomes an <see cref="ErrorReply"/>, so a requester gets an answer instead of silence.
/// </summary>
public static class MessageParts
{
    public static List<byte[]> Encode(WireCodec wire, GoqMessage body, long rid, bool standalone = false)
    {
        var parts = new List<byte[]>(1);
        Add(parts, wire, body, rid, last: true, standalone);
        return parts;
    }

    /// <summary>Joins the parts of a reply received so far with the next one; an error in any part wins.</summary>
    public static GoqMessage Join(GoqMessage soFar, GoqMessage next) => soFar switch
    {
        ErrorReply => soFar,
        IListReply list when next is not ErrorReply && next.GetType() == soFar.GetType() => list.Join(next),
        _ => next,
    };

    private static void Add(List<byte[]> parts, WireCodec wire, GoqMessage body, long rid, bool last, bool standalone)
    {
        var payload = wire.Encode(body, rid, more: !last && !standalone);
        if (payload.Length <= FrameCodec.MaxMessageBytes)
        {
            parts.Add(payload);
            return;
        }

        if (body is IListReply { ItemCount: > 1 } list)
        {
            var (first, second) = list.Split();
            Add(parts, wire, first, rid, last: false, standalone);
            Add(parts, wire, second, rid, last, standalone);
            return;
        }

        if (!standalone)
        {
            parts.Add(wire.Encode(new ErrorReply(GoqErrorIds.MessageTooLarge,
                $"the answer ({body.GetType().Name}, {payload.Length:N0} bytes) is larger than a message may be ({FrameCodec.MaxMessageBytes:N0} bytes)", Errors.GoqErrorKind.InvalidArgument), rid, more: !last));
        }
    }
}
