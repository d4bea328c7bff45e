using Goq.Hosting;

namespace Goq.Tests.Hosting;

/// <summary>Which paths New-GoqServiceUnit warns about in ExecStart: those under a NuGet cache or a temporary folder.</summary>
public sealed class TransientPathTests
{
    private static readonly string[] Caches = ["/home/ann/.nuget/packages"];
    private static readonly string[] Temps = ["/tmp/", "/var/tmp"];

    [Theory]
    [InlineData("/home/ann/.nuget/packages/powershell/7.6.9/tools/net10.0/any/unix/pwsh", "a NuGet package cache")]
    [InlineData("/tmp/goq-checkout/module/Goq.psd1", "a temporary folder")]
    [InlineData("/var/tmp/build/module/Goq.psd1", "a temporary folder")]
    [InlineData("/tmp/../tmp/x/pwsh", "a temporary folder")]
    public void Why_NamesTheReason_WhenThePathIsUnderACacheOrATemporaryFolder(string path, string expected) =>
        Assert.Equal(expected, TransientPath.Why(path, Caches, Temps));

    [Theory]
    [InlineData("/usr/bin/pwsh")]
    [InlineData("/opt/microsoft/powershell/7/pwsh")]
    [InlineData("/usr/local/share/powershell/Modules/Goq/1.0.0/Goq.psd1")]
    [InlineData("/home/ann/.nuget/packages-old/pwsh")] // a sibling whose name starts the same is not inside
    [InlineData("/tmpfs/goq/Goq.psd1")]
    public void Why_IsNull_ForALastingPath(string path) =>
        Assert.Null(TransientPath.Why(path, Caches, Temps));
}
