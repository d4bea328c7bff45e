namespace Goq.Identity;

/// <summary>A user of a multi-user cluster as the server knows them (Get-GoqUser): never their key, only its id.</summary>
public sealed class GoqUser
{
    public string Name { get; set; } = "";

    public GoqRole Role { get; set; }

    /// <summary>The id of the user's key, as hex: what their messages name.</summary>
    public string KeyId { get; set; } = "";

    public DateTimeOffset Created { get; set; }

    /// <summary>When the server last took a message signed with the key; null: never.</summary>
    public DateTimeOffset? LastSeen { get; set; }

    /// <summary>When the key was revoked (Revoke-GoqUser); null while it is good.</summary>
    public DateTimeOffset? Revoked { get; set; }

    public GoqUser Copy() => (GoqUser)MemberwiseClone();

    public override string ToString() => $"{Name} ({Role})";
}
