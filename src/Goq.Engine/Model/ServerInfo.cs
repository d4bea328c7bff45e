namespace Goq;

/// <summary>A running server as <c>Start-GoqServer</c> returns it.</summary>
public sealed class ServerInfo
{
    public string Endpoint { get; set; } = "";

    public int Pid { get; set; }

    public string Home { get; set; } = "";

    public string Version { get; set; } = "";

    /// <summary>Where Prometheus scrapes it, when it serves metrics (-MetricsPort); else null.</summary>
    public string? MetricsUrl { get; set; }

    /// <summary>The dashboard's address with its token (as <c>Get-GoqServer -Detailed</c> gives it), when it serves metrics.</summary>
    public string? DashboardUrl { get; set; }

    /// <summary>Why the server cannot store changes (a full disk, say) as it started: it serves reads and refuses changes until it can. Null when it can.</summary>
    public string? StoreUnavailable { get; set; }

    /// <summary>Active (it serves) or Standby (it waits to take over; one of several servers on a PostgreSQL store).</summary>
    public string Role { get; set; } = "Active";

    public override string ToString() => $"Goq server {Endpoint} (pid {Pid}, {Role})";
}
