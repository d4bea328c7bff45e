namespace Goq.Identity;

/// <summary>
/// Who sent a message, as the server knows it from the key that signed it: a user's key names its user and role; the
/// cluster secret is held by the server's own host and workers, and acts as an <see cref="GoqRole.Admin"/>.
/// </summary>
/// <param name="Name">The user; for the cluster secret, null (the client's own account name is taken as said).</param>
/// <param name="Role">What the sender may do.</param>
public sealed record Principal(string? Name, GoqRole Role)
{
    /// <summary>Whoever holds the cluster secret.</summary>
    public static readonly Principal Cluster = new(null, GoqRole.Admin);

    /// <summary>True for the cluster secret's holder (the server's host, root, the workers it started).</summary>
    public bool IsCluster => Name is null;

    public override string ToString() => Name is null ? "the cluster secret's holder" : $"{Name} ({Role})";
}
