using Goq.Hosting;

namespace Goq.Tests.Hosting;

/// <summary>The systemd unit New-GoqServiceUnit writes: what systemd would read back from it, and how it stops the role.</summary>
public sealed class SystemdUnitTests
{
    [Theory]
    [InlineData("plain", false, "\"plain\"")]
    [InlineData("a b", false, "\"a b\"")]
    [InlineData("100%", false, "\"100%%\"")]
    [InlineData("$HOME", false, "\"$HOME\"")] // Environment= expands no variables
    [InlineData("$HOME", true, "\"$$HOME\"")] // ExecStart= does
    [InlineData("say \"hi\" \\o/", true, "\"say \\\"hi\\\" \\\\o/\"")]
    public void AWord_IsQuotedSoSystemdReadsItBackAsItIs(string word, bool execLine, string expected) =>
        Assert.Equal(expected, SystemdUnit.Quote(word, execLine));

    [Fact]
    public void TheUnit_RunsTheCommandInTheHome_RestartsOnFailure_AndStopsItsMainProcessFirst()
    {
        var unit = new SystemdUnit("Goq worker of /srv/goq", new ProcessCommand("/usr/bin/pwsh", ["-NoProfile", "-Command", "Start-GoqWorker -Wait"]),
            "/srv/goq", "goq", 600).Render();
        var lines = unit.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("Type=simple", lines);
        Assert.Contains("User=goq", lines);
        Assert.Contains("Environment=\"GOQ_HOME=/srv/goq\"", lines);
        Assert.Contains("ExecStart=\"/usr/bin/pwsh\" \"-NoProfile\" \"-Command\" \"Start-GoqWorker -Wait\"", lines);
        Assert.Contains("Restart=on-failure", lines);
        Assert.Contains("KillMode=mixed", lines);
        Assert.Contains("TimeoutStopSec=600", lines);
        Assert.Contains("WantedBy=multi-user.target", lines);
    }

    [Fact]
    public void WithoutAUser_SystemdChoosesIt()
    {
        var unit = new SystemdUnit("Goq server", new ProcessCommand("/usr/bin/pwsh", []), "/srv/goq", null, 30).Render();
        Assert.DoesNotContain("User=", unit);
    }
}
