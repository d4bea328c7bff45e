namespace Goq.Transport;

/// <summary>A connection as the server's ROUTER socket names it (its routing identity), opaque to the scheduler.</summary>
public readonly record struct PeerId(string Value)
{
    public static PeerId FromIdentity(byte[] identity) => new(Convert.ToBase64String(identity));

    public byte[] ToIdentity() => Convert.FromBase64String(Value);

    public override string ToString() => Value;
}
