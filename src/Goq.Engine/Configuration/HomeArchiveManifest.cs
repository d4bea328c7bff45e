namespace Goq.Configuration;

/// <summary>The note inside a home archive: what it is for, and which cluster (by its server's public key) it joins.</summary>
public sealed class HomeArchiveManifest
{
    /// <summary>Worker or Client: what the exporting admin meant the archive for (both get the same files).</summary>
    public string Role { get; set; } = "Worker";

    public string ServerPublicKey { get; set; } = "";

    public string Endpoint { get; set; } = "";

    public string Version { get; set; } = "";

    public DateTimeOffset ExportedAt { get; set; }
}
