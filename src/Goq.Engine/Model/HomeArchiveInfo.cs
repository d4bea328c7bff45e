namespace Goq;

/// <summary>A home archive Export-GoqHome wrote: where, for which role, and the cluster it joins.</summary>
public sealed class HomeArchiveInfo
{
    public string Path { get; set; } = "";

    public string Role { get; set; } = "";

    /// <summary>Where hosts that import it connect: make sure they can reach it.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>The server's CURVE public key (hex): compare it with Initialize-GoqHome's or Import-GoqHome's.</summary>
    public string ServerPublicKey { get; set; } = "";

    public override string ToString() => Path;
}
