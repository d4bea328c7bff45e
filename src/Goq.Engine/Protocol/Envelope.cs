namespace Goq.Protocol;

/// <summary>
/// What travels in a message's first frame. <see cref="SentAtMs"/> and <see cref="Nonce"/> are there for replay
/// checks; the MAC over these serialized bytes travels in the second frame, so the bytes that are checked are
/// exactly the bytes that were sent (no canonical re-serialization).
/// </summary>
/// <param name="V">Protocol version of the sender.</param>
/// <param name="SentAtMs">Sender's clock, Unix milliseconds.</param>
/// <param name="Nonce">Random per message.</param>
/// <param name="Rid">Request id: set by a requester, echoed by the reply; 0 for one-way messages.</param>
/// <param name="Body">The message.</param>
/// <param name="More">
/// True when this reply is one part of a list reply too large for one message: further parts with the same
/// <paramref name="Rid"/> follow, the last without it (see <see cref="IListReply"/>).
/// </param>
public sealed record Envelope(int V, long SentAtMs, string Nonce, long Rid, GoqMessage Body, bool? More = null)
{
    /// <summary>The protocol version this build speaks.</summary>
    public const int CurrentVersion = 1;
}
