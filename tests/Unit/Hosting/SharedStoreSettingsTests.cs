using System.Diagnostics.Metrics;
using Goq.Configuration;
using Goq.Errors;
using Goq.Hosting;
using Goq.Monitoring;
using Goq.Tests.Support;

namespace Goq.Tests.Hosting;

/// <summary>
/// What a server of several on a shared store checks as it starts (the fall-back output folder, the store's password
/// file) and the role gauge it reports.
/// </summary>
public sealed class SharedStoreSettingsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private GoqSettings Settings(string? fallback = null) => new() { Home = _dir.Combine("home"), FallbackOutputDir = fallback };

    // ---- ServerHost.CheckFallbackFolder ----

    [Fact]
    public void NoFallbackFolder_IsNothingToCheck()
    {
        var settings = Settings();
        ServerHost.CheckFallbackFolder(settings);
        Assert.False(Directory.Exists(settings.Home)); // nothing made
    }

    [Fact]
    public void AWritableFallbackFolder_PassesTheCheck_AndKeepsNoProbeFile()
    {
        var fallback = _dir.Combine("shared");
        var settings = Settings(fallback);
        ServerHost.CheckFallbackFolder(settings);

        var folder = Path.Combine(fallback, settings.OutputDir);
        Assert.True(Directory.Exists(folder));
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));

        ServerHost.CheckFallbackFolder(settings); // again, on the folder that now exists
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
    }

    [Fact]
    public void AFallbackFolderThatIsAFile_FailsTheStart_NamingTheFolder()
    {
        var fallback = _dir.Combine("not-a-folder");
        File.WriteAllText(fallback, "a regular file: no folder can be made under it, not even by root");
        var settings = Settings(fallback);

        var ex = Assert.Throws<GoqException>(() => ServerHost.CheckFallbackFolder(settings));
        Assert.Equal(GoqErrorIds.ServerStartFailed, ex.ErrorId);
        Assert.Equal("GoqServerStartFailed", ex.ErrorId);
        var folder = Path.Combine(fallback, settings.OutputDir);
        Assert.Contains(folder, ex.Message);
        Assert.Equal(folder, ex.Target);
        Assert.Equal("a regular file: no folder can be made under it, not even by root", File.ReadAllText(fallback)); // left alone
    }

    // ---- SharedStoreHost.StorePassword ----

    [Fact]
    public void NoStorePasswordFile_IsNoPassword()
    {
        Assert.Null(SharedStoreHost.StorePassword(Settings()));
    }

    [SkippableTheory]
    [InlineData("s3cret", "s3cret")]
    [InlineData("s3cret\n", "s3cret")]
    [InlineData("s3cret\r\n", "s3cret")]
    [InlineData(" pass word \n", " pass word ")]
    public void APrivateStorePasswordFile_IsThePassword_WithoutItsLineEnd(string content, string password)
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes");
        var settings = Settings();
        WritePassword(settings, content, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(password, SharedStoreHost.StorePassword(settings));
    }

    [SkippableTheory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead)] // 0644
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)] // 0640
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherRead)] // 0404
    public void AStorePasswordFileOthersCanRead_IsRefused_WithoutShowingThePassword(UnixFileMode mode)
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes");
        var settings = Settings();
        WritePassword(settings, "s3cret\n", mode);

        var ex = Assert.Throws<GoqException>(() => SharedStoreHost.StorePassword(settings));
        Assert.Equal(GoqErrorIds.InvalidConfig, ex.ErrorId);
        Assert.Contains(settings.StorePasswordPath, ex.Message);
        Assert.DoesNotContain("s3cret", ex.Message);
    }

    private static void WritePassword(GoqSettings settings, string content, UnixFileMode mode)
    {
        Directory.CreateDirectory(settings.DotDir);
        File.WriteAllText(settings.StorePasswordPath, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(settings.StorePasswordPath, mode);
        }
    }

    // ---- ServerMetrics' role gauge ----

    [Fact]
    public void TheRoleGauge_IsOneForTheCurrentRoleAndZeroForTheOther_AndFollowsAChange()
    {
        using var gauge = new RoleGauge(() => new ServerMetrics());
        Assert.Equal("active", gauge.Metrics.Role);
        Assert.Equal(new Dictionary<string, int> { ["active"] = 1, ["standby"] = 0 }, gauge.Read());

        gauge.Metrics.Role = "standby";
        Assert.Equal(new Dictionary<string, int> { ["active"] = 0, ["standby"] = 1 }, gauge.Read());

        gauge.Metrics.Role = "active";
        Assert.Equal(new Dictionary<string, int> { ["active"] = 1, ["standby"] = 0 }, gauge.Read());
    }

    [Fact]
    public void AStandbysMetrics_ReportStandbyFromTheStart()
    {
        using var gauge = new RoleGauge(() => new ServerMetrics { Role = "standby" });
        Assert.Equal(new Dictionary<string, int> { ["active"] = 0, ["standby"] = 1 }, gauge.Read());
    }

    /// <summary>
    /// Listens to the goq.server.role gauge of one ServerMetrics only: the one made while listening (instruments that
    /// already existed are published at Start and left disabled, so another instance's never mix in).
    /// </summary>
    private sealed class RoleGauge : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<Instrument> _enabled = [];
        private readonly Dictionary<string, int> _values = [];
        private bool _making;

        public RoleGauge(Func<ServerMetrics> make)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (_making && instrument.Meter.Name == ServerMetrics.MeterName && instrument.Name == "goq.server.role")
                {
                    _enabled.Add(instrument);
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
            {
                var role = Assert.Single(tags.ToArray(), t => t.Key == "role").Value;
                _values.Add(Assert.IsType<string>(role), value); // each role once per observation
            });
            _listener.Start();
            _making = true;
            Metrics = make();
            _making = false;
            Assert.Single(_enabled);
        }

        public ServerMetrics Metrics { get; }

        public Dictionary<string, int> Read()
        {
            _values.Clear();
            _listener.RecordObservableInstruments();
            return new Dictionary<string, int>(_values);
        }

        public void Dispose()
        {
            _listener.Dispose();
            Metrics.Dispose();
        }
    }
}
