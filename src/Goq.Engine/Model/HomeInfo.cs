namespace Goq;

/// <summary>An initialized Goq home, as <c>Initialize-GoqHome</c> returns it.</summary>
public sealed class HomeInfo
{
    public string Path { get; set; } = "";

    public string ConfigPath { get; set; } = "";

    public string Endpoint { get; set; } = "";

    public override string ToString() => Path;
}
