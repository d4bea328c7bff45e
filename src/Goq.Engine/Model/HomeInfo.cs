namespace Goq;

/// <summary>An initialized Goq home, as <c>Initialize-GoqHome</c> returns it.</summary>
public sealed class HomeInfo
{
    public string Path { get; set; } = "";

    public string ConfigPath { get; set; } = "";

    public string Endpoint { get; set; } = "";

    /// <summary>The server's CURVE public key (hex): public, so it may be shown; compare it across hosts.</summary>
    public string ServerPublicKey { get; set; } = "";

    /// <summary>A multi-user cluster's home (Initialize-GoqHome -MultiUser): its users get keys of their own (Grant-GoqUser).</summary>
    public bool MultiUser { get; set; }

    public override string ToString() => Path;
}
