using Goq.Configuration;
using Goq.Identity;
using Goq.Platform;
using Goq.Tests.Support;

namespace Goq.Tests.Identity;

/// <summary>
/// A user's home written into their home folder (Grant-GoqUser as root). Written here for this process's own account
/// (files given to the uid that already owns them), so it runs without root; Linux only, as the writer is.
/// </summary>
public sealed class UserHomesTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateFolder = Private | UnixFileMode.UserExecute;

    private readonly TempDir _dir = new();
    private readonly GoqSettings _server;
    private readonly ClusterCredentials _serverKeys;
    private readonly UserKey _alice;

    public UserHomesTests()
    {
        GoqHomeInitializer.Initialize(_dir.Combine("server"), 4712, null, force: false, multiUser: true);
        _server = GoqSettings.Load(_dir.Combine("server"));
        _serverKeys = _server.LoadCredentials(forServer: true);
        _alice = UserKey.Derive(_serverKeys.Secret, "alice", UserKey.NewKeyId());
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>This process's account, with its home moved to <paramref name="home"/>; null where the writer does not run.</summary>
    private static UserAccount? Me(string home)
    {
        Directory.CreateDirectory(home);
        return OperatingSystem.IsLinux() && UserAccounts.Find(Environment.UserName) is { } me && me.Uid == UserAccounts.EffectiveUid
            ? me with { Home = home }
            : null;
    }

    [Fact]
    public void Write_IntoAFreshHomeFolder_MakesAPrivateHomeThatSignsWithTheUsersKey()
    {
        if (!OperatingSystem.IsLinux() || Me(_dir.Combine("alice")) is not { } account)
        {
            return; // not Linux, or no account entry for this process
        }

        var dot = UserHomes.Write(account, _server, _alice);

        Assert.Equal(Path.Combine(account.Home, ".goq"), dot);
        Assert.Equal(["config.json", "server.public", "user.key"], Directory.GetFiles(dot).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(PrivateFolder, File.GetUnixFileMode(dot));
        foreach (var file in Directory.GetFiles(dot))
        {
            Assert.Equal(Private, File.GetUnixFileMode(file));
        }

        var credentials = ClusterCredentials.Load(dot, forServer: false);
        Assert.Equal(_alice.KeyId, credentials.KeyId);
        Assert.Equal(_alice.Key, credentials.Secret);
        Assert.Equal(_serverKeys.ServerPublicKey, credentials.ServerPublicKey);
        Assert.True(GoqSettings.Load(account.Home).MultiUser);
    }

    [Fact]
    public void Write_AgainWithANewKey_ReplacesTheKey()
    {
        if (!OperatingSystem.IsLinux() || Me(_dir.Combine("alice")) is not { } account)
        {
            return;
        }

        UserHomes.Write(account, _server, _alice);
        var fresh = UserKey.Derive(_serverKeys.Secret, "alice", UserKey.NewKeyId());
        var dot = UserHomes.Write(account, _server, fresh);

        Assert.Equal(fresh.KeyId, ClusterCredentials.Load(dot, forServer: false).KeyId);
        Assert.DoesNotContain(Directory.GetFiles(dot), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_OverAHomeThatHeldAClusterSecret_MakesItSignWithTheUsersKey()
    {
        // Alice's home from before the cluster became multi-user: a one-secret cluster's (Export-/Import-GoqHome).
        var home = _dir.Combine("alice");
        GoqHomeInitializer.Initialize(home, 4713, null, force: false);
        if (!OperatingSystem.IsLinux() || Me(home) is not { } account)
        {
            return;
        }

        var dot = UserHomes.Write(account, _server, _alice);

        // HomeArchive.Import removes the other credential for this reason ("a cluster secret left behind would win").
        var credentials = ClusterCredentials.Load(dot, forServer: false);
        Assert.NotNull(credentials.User);
        Assert.Equal(_alice.Key, credentials.Secret);
        Assert.False(File.Exists(Path.Combine(dot, ClusterCredentials.SecretFile)));
    }
}
