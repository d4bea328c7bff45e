namespace Goq;

/// <summary>A running server as <c>Start-GoqServer</c> returns it.</summary>
public sealed class ServerInfo
{
    public string Endpoint { get; set; } = "";

    public int Pid { get; set; }

    public string Home { get; set; } = "";

    public string Version { get; set; } = "";

    public override string ToString() => $"Goq server {Endpoint} (pid {Pid})";
}
