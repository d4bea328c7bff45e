using System.IO.Compression;
using System.Text;
using Goq.Configuration;
using Goq.Errors;
using Goq.Identity;
using Goq.Tests.Support;

namespace Goq.Tests.Identity;

/// <summary>A user's archive of a multi-user cluster (Grant-GoqUser -OutFile): the user's key in the place of the cluster secret.</summary>
public sealed class UserHomeArchiveTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly GoqSettings _server;
    private readonly ClusterCredentials _serverKeys;
    private readonly UserKey _alice;

    public UserHomeArchiveTests()
    {
        var info = GoqHomeInitializer.Initialize(_dir.Combine("server"), 4711, null, force: false, multiUser: true);
        Assert.True(info.MultiUser);
        _server = GoqSettings.Load(_dir.Combine("server"));
        _serverKeys = _server.LoadCredentials(forServer: true);
        _alice = UserKey.Derive(_serverKeys.Secret, "alice", UserKey.NewKeyId());
    }

    public void Dispose() => _dir.Dispose();

    private string ClientDot(string name) => Path.Combine(_dir.Combine(name), ".goq");

    private string ExportUser(UserKey key, string name = "alice.zip") => HomeArchive.ExportUser(_server, key, _dir.Combine(name)).Path;

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private static Dictionary<string, byte[]> Entries(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        });
    }

    private string Zip(string name, IReadOnlyDictionary<string, byte[]> entries)
    {
        var path = _dir.Combine(name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (entryName, content) in entries)
        {
            using var stream = zip.CreateEntry(entryName).Open();
            stream.Write(content);
        }

        return path;
    }

    [Fact]
    public void ExportUser_WritesTheConfigThePublicKeyAndTheUsersKey_NeverTheClusterSecret()
    {
        var info = HomeArchive.ExportUser(_server, _alice, _dir.Combine("alice.zip"));

        Assert.Equal(Path.GetFullPath(_dir.Combine("alice.zip")), info.Path);
        Assert.Equal("user alice", info.Role);
        Assert.Equal(_server.Endpoint, info.Endpoint);
        Assert.Equal(Hex(_serverKeys.ServerPublicKey), info.ServerPublicKey);

        var entries = Entries(info.Path);
        Assert.Equal(["config.json", "goq-home.json", "server.public", "user.key"], entries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(_alice.ToFileText(), Encoding.UTF8.GetString(entries[UserKey.FileName]));
        var all = string.Concat(entries.Values.Select(Encoding.UTF8.GetString));
        Assert.DoesNotContain(Hex(_serverKeys.Secret), all, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Hex(_serverKeys.ServerSecretKey!), all, StringComparison.OrdinalIgnoreCase);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(info.Path));
        }
    }

    [Fact]
    public void Import_OfAUsersArchive_MakesAHomeThatSignsWithTheUsersKey()
    {
        var home = _dir.Combine("alice");
        var info = HomeArchive.Import(ExportUser(_alice), home, force: false);

        var dot = ClientDot("alice");
        Assert.Equal(Path.GetFullPath(home), info.Path);
        Assert.Equal(Hex(_serverKeys.ServerPublicKey), info.ServerPublicKey);
        Assert.Equal(_server.Endpoint, info.Endpoint);
        Assert.True(File.Exists(Path.Combine(dot, UserKey.FileName)));
        Assert.True(File.Exists(Path.Combine(dot, ClusterCredentials.ServerPublicFile)));
        Assert.True(File.Exists(Path.Combine(dot, HomeArchive.ConfigEntry)));
        Assert.False(File.Exists(Path.Combine(dot, ClusterCredentials.SecretFile)));
        Assert.False(File.Exists(Path.Combine(dot, ClusterCredentials.ServerSecretFile)));
        Assert.True(GoqSettings.Load(home).MultiUser);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dot, UserKey.FileName)));
        }

        var credentials = ClusterCredentials.Load(dot, forServer: false);
        Assert.NotNull(credentials.User);
        Assert.Equal("alice", credentials.User.User);
        Assert.Equal(_alice.KeyId, credentials.User.KeyId);
        Assert.Equal(_alice.KeyId, credentials.KeyId);
        Assert.Equal(_alice.Key, credentials.Secret);
        Assert.Equal(_serverKeys.ServerPublicKey, credentials.ServerPublicKey);
        Assert.Null(credentials.ServerSecretKey);
        Assert.Equal(GoqErrorIds.CredentialsMissing,
            Assert.Throws<GoqException>(() => ClusterCredentials.Load(dot, forServer: true)).ErrorId); // no server runs on a user's key
    }

    [Fact]
    public void Import_OfTheSameUsersArchiveAgain_IsAllowedWithoutForce()
    {
        var zip = ExportUser(_alice);
        HomeArchive.Import(zip, _dir.Combine("alice"), force: false);
        HomeArchive.Import(zip, _dir.Combine("alice"), force: false);
        Assert.Equal(_alice.Key, ClusterCredentials.Load(ClientDot("alice"), forServer: false).Secret);
    }

    [Fact]
    public void Import_OfAnotherUsersArchive_OverAUsersHome_NeedsForce()
    {
        HomeArchive.Import(ExportUser(_alice), _dir.Combine("alice"), force: false);
        var bob = UserKey.Derive(_serverKeys.Secret, "bob", UserKey.NewKeyId());
        var bobs = ExportUser(bob, "bob.zip");

        var ex = Assert.Throws<GoqException>(() => HomeArchive.Import(bobs, _dir.Combine("alice"), force: false));
        Assert.Equal(GoqErrorIds.HomeOfAnotherCluster, ex.ErrorId);
        Assert.Equal(_alice.Key, ClusterCredentials.Load(ClientDot("alice"), forServer: false).Secret);

        HomeArchive.Import(bobs, _dir.Combine("alice"), force: true);
        var credentials = ClusterCredentials.Load(ClientDot("alice"), forServer: false);
        Assert.Equal(bob.Key, credentials.Secret);
        Assert.Equal("bob", credentials.User!.User);
    }

    [Fact]
    public void Import_OfAUsersArchive_OverAClusterSecretHome_WithForce_RemovesTheClusterSecret()
    {
        var clientHome = _dir.Combine("client");
        HomeArchive.Import(HomeArchive.Export(_server, _dir.Combine("cluster.zip"), "Client").Path, clientHome, force: false);
        Assert.Null(ClusterCredentials.Load(ClientDot("client"), forServer: false).User);

        var zip = ExportUser(_alice);
        Assert.Equal(GoqErrorIds.HomeOfAnotherCluster,
            Assert.Throws<GoqException>(() => HomeArchive.Import(zip, clientHome, force: false)).ErrorId);
        Assert.True(File.Exists(Path.Combine(ClientDot("client"), ClusterCredentials.SecretFile)));

        HomeArchive.Import(zip, clientHome, force: true);

        // A cluster secret left behind would win over the user key: it is gone.
        Assert.False(File.Exists(Path.Combine(ClientDot("client"), ClusterCredentials.SecretFile)));
        var credentials = ClusterCredentials.Load(ClientDot("client"), forServer: false);
        Assert.Equal(_alice.KeyId, credentials.KeyId);
        Assert.Equal(_alice.Key, credentials.Secret);
    }

    [Fact]
    public void Import_OfAClusterArchive_OverAUsersHome_WithForce_RemovesTheUsersKey()
    {
        var home = _dir.Combine("alice");
        HomeArchive.Import(ExportUser(_alice), home, force: false);

        HomeArchive.Import(HomeArchive.Export(_server, _dir.Combine("cluster.zip"), "Worker").Path, home, force: true);

        Assert.False(File.Exists(Path.Combine(ClientDot("alice"), UserKey.FileName)));
        var credentials = ClusterCredentials.Load(ClientDot("alice"), forServer: false);
        Assert.Null(credentials.User);
        Assert.Null(credentials.KeyId);
        Assert.Equal(_serverKeys.Secret, credentials.Secret);
    }

    [Fact]
    public void AnArchiveWithBothTheClusterSecretAndAUserKey_IsRefused_AndWritesNothing()
    {
        var entries = Entries(ExportUser(_alice));
        entries[ClusterCredentials.SecretFile] = File.ReadAllBytes(Path.Combine(_server.DotDir, ClusterCredentials.SecretFile));
        var zip = Zip("both.zip", entries);

        var ex = Assert.Throws<GoqException>(() => HomeArchive.Import(zip, _dir.Combine("mallory"), force: false));

        Assert.Equal(GoqErrorIds.InvalidHomeArchive, ex.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidData, ex.Kind);
        Assert.Contains("both a cluster secret and a user key", ex.Message);
        Assert.False(Directory.Exists(ClientDot("mallory")));
    }

    [Fact]
    public void AClusterArchive_WithAUserKeyAdded_IsRefused()
    {
        var entries = Entries(HomeArchive.Export(_server, _dir.Combine("cluster.zip"), "Client").Path);
        entries[UserKey.FileName] = Encoding.UTF8.GetBytes(_alice.ToFileText());
        var ex = Assert.Throws<GoqException>(() => HomeArchive.Import(Zip("both.zip", entries), _dir.Combine("mallory"), force: false));
        Assert.Equal(GoqErrorIds.InvalidHomeArchive, ex.ErrorId);
        Assert.False(Directory.Exists(ClientDot("mallory")));
    }

    [Theory]
    [InlineData("not a key")]
    [InlineData("goq-user-key-1 alice 0102 00")]
    [InlineData("")]
    public void AUsersArchive_WhoseKeyIsNotAKey_IsRefused(string keyText)
    {
        var entries = Entries(ExportUser(_alice));
        entries[UserKey.FileName] = Encoding.UTF8.GetBytes(keyText);
        var ex = Assert.Throws<GoqException>(() => HomeArchive.Import(Zip("bad.zip", entries), _dir.Combine("mallory"), force: false));
        Assert.Equal(GoqErrorIds.InvalidHomeArchive, ex.ErrorId);
        Assert.Contains("'user.key' is not a user key", ex.Message);
        Assert.False(Directory.Exists(ClientDot("mallory")));
    }

    [Theory]
    [InlineData("server.public")]
    [InlineData("config.json")]
    [InlineData("goq-home.json")]
    public void AUsersArchive_MissingAFile_IsRefused(string missing)
    {
        var entries = Entries(ExportUser(_alice));
        entries.Remove(missing);
        var ex = Assert.Throws<GoqException>(() => HomeArchive.Import(Zip("short.zip", entries), _dir.Combine("mallory"), force: false));
        Assert.Equal(GoqErrorIds.InvalidHomeArchive, ex.ErrorId);
        Assert.Contains($"it has no '{missing}'", ex.Message);
    }

    [Fact]
    public void AUsersArchive_WithABadServerPublicKey_IsRefused()
    {
        var entries = Entries(ExportUser(_alice));
        entries[ClusterCredentials.ServerPublicFile] = "0011"u8.ToArray();
        var ex = Assert.Throws<GoqException>(() => HomeArchive.Import(Zip("bad.zip", entries), _dir.Combine("mallory"), force: false));
        Assert.Equal(GoqErrorIds.InvalidHomeArchive, ex.ErrorId);
        Assert.Contains("'server.public' is not a key", ex.Message);
    }

    [Fact]
    public void UserHomesFiles_AreTheServersConfigAndPublicKey_AndTheKeyFile()
    {
        var files = UserHomes.Files(_server, _alice);
        Assert.Equal(["config.json", "server.public", "user.key"], files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllBytes(_server.ConfigPath), files[HomeArchive.ConfigEntry]);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_server.DotDir, ClusterCredentials.ServerPublicFile)), files[ClusterCredentials.ServerPublicFile]);
        Assert.Equal(_alice.ToFileText(), Encoding.UTF8.GetString(files[UserKey.FileName]));
    }

    [Fact]
    public void ForUserCredentials_SaveAsAUsersHome_AndLoadBack()
    {
        var dot = ClientDot("saved");
        ClusterCredentials.ForUser(_alice, _serverKeys.ServerPublicKey).Save(dot);

        Assert.False(File.Exists(Path.Combine(dot, ClusterCredentials.SecretFile)));
        var loaded = ClusterCredentials.Load(dot, forServer: false);
        Assert.Equal(_alice.Key, loaded.Secret);
        Assert.Equal(_alice.KeyId, loaded.KeyId);
        Assert.Equal(_alice.KeyId, loaded.ForPeers().KeyId);
        Assert.Equal(_alice.KeyId, loaded.ForServerKey(new byte[32]).KeyId);
    }

    [Fact]
    public void AHomeWithBothFiles_SignsWithTheClusterSecret()
    {
        var dot = ClientDot("both");
        _serverKeys.ForPeers().Save(dot);
        File.WriteAllText(Path.Combine(dot, UserKey.FileName), _alice.ToFileText());

        var loaded = ClusterCredentials.Load(dot, forServer: false);
        Assert.Null(loaded.User);
        Assert.Equal(_serverKeys.Secret, loaded.Secret);
    }
}
