using Goq.Monitoring;

namespace Goq.Tests.Monitoring;

public sealed class DashboardTokenTests
{
    [Fact]
    public void TheToken_IsDerivedFromTheSecret_AndChangesWithIt()
    {
        var secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var token = DashboardToken.Derive(secret);
        Assert.Matches("^[0-9a-f]{32}$", token);
        Assert.Equal(token, DashboardToken.Derive([.. secret]));
        secret[0] ^= 1;
        Assert.NotEqual(token, DashboardToken.Derive(secret));
        Assert.DoesNotContain(Convert.ToHexString(secret).ToLowerInvariant()[..16], token);
    }

    [Fact]
    public void Matching_NeedsTheWholeToken()
    {
        var token = DashboardToken.Derive(new byte[32]);
        Assert.True(DashboardToken.Matches(token, token));
        Assert.False(DashboardToken.Matches(token, null));
        Assert.False(DashboardToken.Matches(token, ""));
        Assert.False(DashboardToken.Matches(token, token[..^1]));
        Assert.False(DashboardToken.Matches(token, token + "0"));
        Assert.Equal("http://h:9464/?token=abc", MonitorEndpoint.DashboardUrl("http://h:9464/metrics", "abc"));
    }
}
