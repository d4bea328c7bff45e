using System.Data.Common;
using System.IO.Compression;
using System.Text.Json;
using Goq.Configuration;
using Goq.Errors;
using Goq.Hosting;
using Goq.Tests.Support;

namespace Goq.Tests.Configuration;

/// <summary>
/// Tests that set or read GOQ_* environment variables: run apart from every other test (other classes read the
/// settings too, and GoqSettingsTests sets GOQ_JSERV_PORT and GOQ_ODIR while it runs).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GoqEnvironmentCollection
{
    public const string Name = "Goq environment variables";
}

/// <summary>
/// A cluster of several servers on a shared store: the server list's entries, the settings they give each server
/// (endpoints, per-port files), the store's password kept out of config.json, and what a server's home archive carries.
/// </summary>
[Collection(GoqEnvironmentCollection.Name)]
public sealed class SeveralServersSettingsTests : IDisposable
{
    private const string Elsewhere = "elsewhere.invalid";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---- ServerEntry ----

    [Theory]
    [InlineData("h1:1776", "h1", 1776)]
    [InlineData("[::1]:1777", "[::1]", 1777)]
    [InlineData("node-7.example.org:1", "node-7.example.org", 1)]
    [InlineData("10.0.0.5:65535", "10.0.0.5", 65535)]
    public void Parse_SplitsHostAndPort(string entry, string host, int port)
    {
        Assert.Equal((host, port), ServerEntry.Parse(entry));
    }

    [Theory]
    [InlineData("h1")]
    [InlineData("h1:0")]
    [InlineData("h1:70000")]
    [InlineData("h1:65536")]
    [InlineData(":1776")]
    [InlineData("h1:")]
    [InlineData("h1:-5")]
    [InlineData("h1:+5")]
    [InlineData("h1: 1776")]
    [InlineData("[::1]")]
    public void Parse_RefusesWhatIsNotHostColonPort_NamingTheEntry(string entry)
    {
        var ex = Assert.Throws<JsonException>(() => ServerEntry.Parse(entry));
        Assert.Contains($"'{entry}'", ex.Message);
    }

    [Fact]
    public void Own_IsTheOneEntryWithThePort()
    {
        string[] servers = ["127.0.0.1:5001", "127.0.0.1:5002", "10.0.0.9:5003"];
        Assert.Equal(("127.0.0.1", 5002), ServerEntry.Own(servers, 5002));
        Assert.Equal(("10.0.0.9", 5003), ServerEntry.Own(servers, 5003));
        Assert.Null(ServerEntry.Own(servers, 5004));
    }

    [Fact]
    public void Own_AmongEntriesSharingThePort_IsTheOneNamingThisHost_InEitherOrder()
    {
        var here = Environment.MachineName;
        Assert.Equal((here, 1776), ServerEntry.Own([$"{here}:1776", $"{Elsewhere}:1776"], 1776));
        Assert.Equal((here, 1776), ServerEntry.Own([$"{Elsewhere}:1776", $"{here}:1776"], 1776));
        Assert.Null(ServerEntry.Own([$"{Elsewhere}:1776", "other.invalid:1776"], 1776)); // none names this host
    }

    [Fact]
    public void Own_WithFewerThanTwoServers_IsNull()
    {
        Assert.Null(ServerEntry.Own([], 1776));
        Assert.Null(ServerEntry.Own(["127.0.0.1:1776"], 1776));
        Assert.Null(ServerEntry.Own([$"{Environment.MachineName}:1776"], 1776));
    }

    // ---- GoqSettings.FromConfig ----

    [Fact]
    public void TwoServersOnOneHost_EachGetsItsOwnEndpointAndPerPortFiles()
    {
        var root = _dir.Path;
        var settings = GoqSettings.FromConfig(root, new GoqConfig { Servers = ["127.0.0.1:5001", "127.0.0.1:5002"] }, port: 5002);

        Assert.Equal("tcp://127.0.0.1:5001,tcp://127.0.0.1:5002", settings.Endpoint);
        Assert.Equal("tcp://127.0.0.1:5002", settings.OwnEndpoint);
        Assert.Equal("tcp://127.0.0.1:5002", settings.BindEndpoint);
        Assert.Equal(5002, settings.Port);
        var dot = Path.Combine(root, ".goq");
        Assert.Equal(Path.Combine(dot, "server.5002.pid"), settings.PidPath);
        Assert.Equal(Path.Combine(dot, "server.5002.lock"), settings.LockPath);
        Assert.Equal(Path.Combine(dot, "server.5002.log"), settings.ServerLogPath);

        var first = GoqSettings.FromConfig(root, new GoqConfig { Servers = ["127.0.0.1:5001", "127.0.0.1:5002"] }, port: 5001);
        Assert.Equal("tcp://127.0.0.1:5001", first.OwnEndpoint);
        Assert.NotEqual(first.PidPath, settings.PidPath);
        Assert.NotEqual(first.LockPath, settings.LockPath);
        Assert.NotEqual(first.ServerLogPath, settings.ServerLogPath);
    }

    [Fact]
    public void OneServerOrNone_KeepsTheSingleServerEndpointAndFiles()
    {
        var root = _dir.Path;
        var dot = Path.Combine(root, ".goq");

        var none = GoqSettings.FromConfig(root, new GoqConfig { ServerHost = "node1", Port = 2000 }, port: null);
        Assert.Equal("tcp://node1:2000", none.Endpoint);
        Assert.Equal("tcp://node1:2000", none.OwnEndpoint);
        Assert.Equal(Path.Combine(dot, "server.pid"), none.PidPath);
        Assert.Equal(Path.Combine(dot, "server.lock"), none.LockPath);
        Assert.Equal(Path.Combine(dot, "server.log"), none.ServerLogPath);

        var one = GoqSettings.FromConfig(root, new GoqConfig { Servers = ["10.2.3.4:5001"] });
        Assert.Equal("tcp://10.2.3.4:5001", one.Endpoint);
        Assert.Equal("tcp://10.2.3.4:5001", one.OwnEndpoint);
        Assert.Equal("tcp://10.2.3.4:5001", one.BindEndpoint);
        Assert.Equal(Path.Combine(dot, "server.pid"), one.PidPath);
        Assert.Equal(Path.Combine(dot, "server.lock"), one.LockPath);
        Assert.Equal(Path.Combine(dot, "server.log"), one.ServerLogPath);
    }

    [Fact]
    public void TwoHostsOnOnePort_OwnEndpointIsThisHostsEntry_AndANameBindsEveryInterface()
    {
        var here = Environment.MachineName;
        foreach (var servers in new[] { new[] { $"{here}:1776", $"{Elsewhere}:1776" }, new[] { $"{Elsewhere}:1776", $"{here}:1776" } })
        {
            var settings = GoqSettings.FromConfig(_dir.Path, new GoqConfig { Servers = servers }, port: 1776);
            Assert.Equal($"tcp://{here}:1776", settings.OwnEndpoint);
            Assert.Equal("tcp://*:1776", settings.BindEndpoint);
            Assert.Equal(string.Join(',', servers.Select(s => $"tcp://{s}")), settings.Endpoint);
            Assert.Equal(Path.Combine(_dir.Path, ".goq", "server.1776.pid"), settings.PidPath);
        }

        // Started without -Port, a server takes the port of the one entry naming this host.
        var unported = GoqSettings.FromConfig(_dir.Path, new GoqConfig { Servers = [$"{Elsewhere}:1776", $"{here}:1790"] });
        Assert.Equal(1790, unported.Port);
        Assert.Equal($"tcp://{here}:1790", unported.OwnEndpoint);
    }

    [Fact]
    public void LeaseSec_DefaultsToTen_AndIsNeverLessThanTwo()
    {
        Assert.Equal(10, GoqSettings.FromConfig(_dir.Path, new GoqConfig()).LeaseSec);
        Assert.Equal(GoqDefaults.LeaseSec, GoqSettings.FromConfig(_dir.Path, new GoqConfig()).LeaseSec);
        Assert.Equal(7, GoqSettings.FromConfig(_dir.Path, new GoqConfig { LeaseSec = 7 }).LeaseSec);
        Assert.Equal(2, GoqSettings.FromConfig(_dir.Path, new GoqConfig { LeaseSec = 1 }).LeaseSec);
        WithEnvironment(("GOQ_LEASE_SEC", "1"), () => Assert.Equal(2, GoqSettings.FromConfig(_dir.Path, new GoqConfig { LeaseSec = 7 }).LeaseSec));
    }

    [Fact]
    public void AConfigFileWithALeaseUnderTwoSeconds_IsRefusedAsInvalid()
    {
        var path = _dir.Combine("config.json");
        File.WriteAllText(path, """{"LeaseSec": 1}""");
        var ex = Assert.Throws<GoqException>(() => GoqSettings.ReadConfig(path));
        Assert.Equal(GoqErrorIds.InvalidConfig, ex.ErrorId);

        File.WriteAllText(path, """{"LeaseSec": 2}""");
        Assert.Equal(2, GoqSettings.ReadConfig(path).LeaseSec);
    }

    [Fact]
    public void AConfigFileWithABadServerEntry_IsRefusedAsInvalid_NamingTheEntry()
    {
        var path = _dir.Combine("config.json");
        File.WriteAllText(path, """{"Servers": ["h1:1776", "h2"]}""");
        var ex = Assert.Throws<GoqException>(() => GoqSettings.ReadConfig(path));
        Assert.Equal(GoqErrorIds.InvalidConfig, ex.ErrorId);
        Assert.Contains("'h2'", ex.Message);
    }

    [Fact]
    public void EnvironmentVariables_WinOverTheConfig_ForServersStoreLeaseAndFallbackFolder()
    {
        var config = new GoqConfig
        {
            Servers = ["127.0.0.1:5001", "127.0.0.1:5002"],
            StoreConnectionString = "Host=config-db;Database=goq",
            LeaseSec = 9,
            FallbackOutputDir = "/config/fallback",
        };
        var fromConfig = GoqSettings.FromConfig(_dir.Path, config, port: 5001);
        Assert.Equal(new[] { "127.0.0.1:5001", "127.0.0.1:5002" }, fromConfig.Servers);
        Assert.Equal("Host=config-db;Database=goq", fromConfig.StoreConnectionString);
        Assert.Equal(9, fromConfig.LeaseSec);
        Assert.Equal("/config/fallback", fromConfig.FallbackOutputDir);

        WithEnvironment(
            [
                ("GOQ_SERVERS", " 10.0.0.1:6001 , 10.0.0.2:6002 ,"),
                ("GOQ_STORE", "Host=env-db;Database=goq"),
                ("GOQ_LEASE_SEC", "5"),
                ("GOQ_FALLBACK_OUTPUT_DIR", "/env/fallback"),
            ],
            () =>
            {
                var fromEnv = GoqSettings.FromConfig(_dir.Path, config, port: 6002);
                Assert.Equal(new[] { "10.0.0.1:6001", "10.0.0.2:6002" }, fromEnv.Servers);
                Assert.Equal("tcp://10.0.0.1:6001,tcp://10.0.0.2:6002", fromEnv.Endpoint);
                Assert.Equal("tcp://10.0.0.2:6002", fromEnv.OwnEndpoint);
                Assert.Equal("Host=env-db;Database=goq", fromEnv.StoreConnectionString);
                Assert.Equal(5, fromEnv.LeaseSec);
                Assert.Equal("/env/fallback", fromEnv.FallbackOutputDir);
            });

        // Empty variables are not set: the config decides again.
        WithEnvironment([("GOQ_SERVERS", ""), ("GOQ_STORE", ""), ("GOQ_LEASE_SEC", "x")], () =>
        {
            var back = GoqSettings.FromConfig(_dir.Path, config, port: 5001);
            Assert.Equal(new[] { "127.0.0.1:5001", "127.0.0.1:5002" }, back.Servers);
            Assert.Equal("Host=config-db;Database=goq", back.StoreConnectionString);
            Assert.Equal(9, back.LeaseSec);
        });
    }

    [Fact]
    public void ABadServerEntryInGoqServers_IsAnInvalidConfigError()
    {
        // config.json's entries are checked by ReadConfig (GoqInvalidConfig); GOQ_SERVERS's must not escape as a bare
        // JsonException, which no cmdlet turns into an error record (OrTerminate catches GoqException only).
        Initialize(_dir.Path);
        WithEnvironment(("GOQ_SERVERS", "h1"), () =>
        {
            var ex = Assert.Throws<GoqException>(() => GoqSettings.Load(_dir.Path));
            Assert.Equal(GoqErrorIds.InvalidConfig, ex.ErrorId);
        });
    }

    // ---- StoreConnection.WithoutPassword ----

    [Theory]
    [InlineData("Host=db1;Database=goq;Username=goq;Password=s3cret", "s3cret")]
    [InlineData("Host=db1;Database=goq;Username=goq;PWD=s3cret", "s3cret")]
    [InlineData("Host=db1;Database=goq;Username=goq;psw=s3cret", "s3cret")]
    [InlineData("password=s3cret;Host=db1;Database=goq;Username=goq", "s3cret")]
    [InlineData("Host=db1;PaSsWoRd=s3cret;Database=goq;Username=goq", "s3cret")]
    [InlineData("Host=db1;Database=goq;Username=goq;Password='a;b=c'", "a;b=c")]
    public void WithoutPassword_TakesThePasswordOut_UnderAnyOfItsNames_KeepingTheRest(string connection, string password)
    {
        var (without, taken) = StoreConnection.WithoutPassword(connection);
        Assert.Equal(password, taken);
        Assert.DoesNotContain(password, without);
        var kept = new DbConnectionStringBuilder { ConnectionString = without };
        Assert.Equal(3, kept.Count);
        Assert.Equal("db1", kept["host"]);
        Assert.Equal("goq", kept["database"]);
        Assert.Equal("goq", kept["username"]);
        Assert.False(kept.ContainsKey("password") || kept.ContainsKey("pwd") || kept.ContainsKey("psw"));
    }

    [Fact]
    public void WithoutPassword_OfAStringWithoutOne_ReturnsNoPassword_AndKeepsEveryKey()
    {
        var (without, password) = StoreConnection.WithoutPassword("Host=db1;Port=5433;Database=goq;Passfile=/etc/goq/pgpass;SSL Mode=Require");
        Assert.Null(password);
        Assert.True(new DbConnectionStringBuilder { ConnectionString = without }
            .EquivalentTo(new DbConnectionStringBuilder { ConnectionString = "Host=db1;Port=5433;Database=goq;Passfile=/etc/goq/pgpass;SSL Mode=Require" }));
    }

    // ---- GoqHomeInitializer with a cluster ----

    [Fact]
    public void Initialize_KeepsTheStorePasswordOutOfTheConfig_InAPrivateFile()
    {
        var fallback = _dir.Combine("shared", "fallback");
        var info = Initialize(_dir.Path, fallback);

        var configPath = Path.Combine(_dir.Path, ".goq", "config.json");
        var text = File.ReadAllText(configPath);
        Assert.DoesNotContain("s3cret", text);
        var config = GoqSettings.ReadConfig(configPath);
        Assert.NotNull(config.StoreConnectionString);
        Assert.True(new DbConnectionStringBuilder { ConnectionString = config.StoreConnectionString }
            .EquivalentTo(new DbConnectionStringBuilder { ConnectionString = "Host=db1;Database=goq;Username=goq" }));
        Assert.Equal(new[] { "127.0.0.1:5001", "127.0.0.1:5002" }, config.Servers);
        Assert.Equal(4, config.LeaseSec);
        Assert.Equal(fallback, config.FallbackOutputDir);
        Assert.Equal("tcp://127.0.0.1:5001,tcp://127.0.0.1:5002", info.Endpoint);

        var passwordPath = Path.Combine(_dir.Path, ".goq", "store.password");
        Assert.Equal("s3cret", File.ReadAllText(passwordPath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(passwordPath));
        }

        var settings = GoqSettings.Load(_dir.Path, port: 5002);
        Assert.Equal(4, settings.LeaseSec);
        Assert.Equal(fallback, settings.FallbackOutputDir);
        Assert.Equal("s3cret", SharedStoreHost.StorePassword(settings));
    }

    [Theory]
    [InlineData("h1")]
    [InlineData("h1:0")]
    [InlineData(":1776")]
    public void Initialize_RefusesABadServerEntry_AsInvalidConfig_WritingNothing(string bad)
    {
        var ex = Assert.Throws<GoqException>(() => GoqHomeInitializer.Initialize(_dir.Path, 1776, "node1", force: false,
            cluster: new ClusterOptions { Servers = ["h0:1776", bad], StoreConnectionString = "Host=db1;Password=s3cret" }));
        Assert.Equal(GoqErrorIds.InvalidConfig, ex.ErrorId);
        Assert.Contains($"'{bad}'", ex.Message);
        Assert.False(File.Exists(Path.Combine(_dir.Path, ".goq", "config.json")));
        Assert.False(File.Exists(Path.Combine(_dir.Path, ".goq", "store.password")));
    }

    // ---- HomeArchive ----

    [Fact]
    public void AServersArchive_CarriesTheServerSecretKeyAndTheStorePassword()
    {
        Initialize(_dir.Path);
        var zip = _dir.Combine("server.zip");
        HomeArchive.Export(GoqSettings.Load(_dir.Path), zip, "Server");

        var entries = EntriesOf(zip);
        Assert.Contains(ClusterCredentials.ServerSecretFile, entries);
        Assert.Contains("store.password", entries);
        Assert.Contains(ClusterCredentials.SecretFile, entries);
        Assert.Contains(ClusterCredentials.ServerPublicFile, entries);
        Assert.Contains(HomeArchive.ConfigEntry, entries);
    }

    [Fact]
    public void AServersArchive_OfAHomeWithoutAStorePassword_HasNoneToCarry()
    {
        GoqHomeInitializer.Initialize(_dir.Path, 1776, "node1", force: false,
            cluster: new ClusterOptions { Servers = ["127.0.0.1:5001", "127.0.0.1:5002"], StoreConnectionString = "Host=db1;Database=goq" });
        var zip = _dir.Combine("server.zip");
        HomeArchive.Export(GoqSettings.Load(_dir.Path), zip, "Server");

        var entries = EntriesOf(zip);
        Assert.Contains(ClusterCredentials.ServerSecretFile, entries);
        Assert.DoesNotContain("store.password", entries);
    }

    [Theory]
    [InlineData("Worker")]
    [InlineData("Client")]
    public void AWorkersOrClientsArchive_NeverCarriesTheServerSecretKeyOrTheStorePassword(string role)
    {
        Initialize(_dir.Path);
        var zip = _dir.Combine($"{role}.zip");
        HomeArchive.Export(GoqSettings.Load(_dir.Path), zip, role);

        var entries = EntriesOf(zip);
        Assert.DoesNotContain(ClusterCredentials.ServerSecretFile, entries);
        Assert.DoesNotContain("store.password", entries);
        Assert.Equal(new[] { HomeArchive.ManifestEntry, HomeArchive.ConfigEntry, ClusterCredentials.SecretFile, ClusterCredentials.ServerPublicFile }.Order(StringComparer.Ordinal),
            entries.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AServersArchive_AsPowerShellPassesTheRole_CarriesTheServerSecretKey()
    {
        // Export-GoqHome's -Role is [ValidateSet("Worker", "Client", "Server")], which ignores case and binds the value
        // as typed: `Export-GoqHome -Role server` hands the engine "server".
        Initialize(_dir.Path);
        var zip = _dir.Combine("server.zip");
        HomeArchive.Export(GoqSettings.Load(_dir.Path), zip, "server");

        var entries = EntriesOf(zip);
        Assert.Contains(ClusterCredentials.ServerSecretFile, entries);
        Assert.Contains("store.password", entries);
    }

    [Fact]
    public void ImportingAServersArchive_MakesAHomeThatCanServe()
    {
        var source = _dir.Combine("source");
        Initialize(source);
        var zip = _dir.Combine("server.zip");
        HomeArchive.Export(GoqSettings.Load(source), zip, "Server");

        var standby = _dir.Combine("standby");
        var info = HomeArchive.Import(zip, standby, force: false);
        Assert.Equal("tcp://127.0.0.1:5001,tcp://127.0.0.1:5002", info.Endpoint);

        var dot = Path.Combine(standby, ".goq");
        foreach (var file in new[] { ClusterCredentials.ServerSecretFile, "store.password" })
        {
            var path = Path.Combine(dot, file);
            Assert.True(File.Exists(path), file);
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, ".goq", file)), File.ReadAllBytes(path));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
            }
        }

        var settings = GoqSettings.Load(standby, port: 5002);
        var imported = settings.LoadCredentials(forServer: true);
        var original = GoqSettings.Load(source).LoadCredentials(forServer: true);
        Assert.Equal(original.ServerSecretKey, imported.ServerSecretKey);
        Assert.Equal(original.ServerPublicKey, imported.ServerPublicKey);
        Assert.Equal("s3cret", SharedStoreHost.StorePassword(settings));
        Assert.Equal("tcp://127.0.0.1:5002", settings.OwnEndpoint);
    }

    [Fact]
    public void ImportingAWorkersArchive_GivesAHomeThatCannotServe()
    {
        var source = _dir.Combine("source");
        Initialize(source);
        var zip = _dir.Combine("worker.zip");
        HomeArchive.Export(GoqSettings.Load(source), zip, "Worker");

        var worker = _dir.Combine("worker");
        HomeArchive.Import(zip, worker, force: false);
        Assert.False(File.Exists(Path.Combine(worker, ".goq", ClusterCredentials.ServerSecretFile)));
        Assert.False(File.Exists(Path.Combine(worker, ".goq", "store.password")));
        var settings = GoqSettings.Load(worker);
        _ = settings.LoadCredentials(forServer: false);
        var ex = Assert.Throws<GoqException>(() => settings.LoadCredentials(forServer: true));
        Assert.Equal(GoqErrorIds.CredentialsMissing, ex.ErrorId);
    }

    // ---- helpers ----

    private static HomeInfo Initialize(string home, string? fallback = null) =>
        GoqHomeInitializer.Initialize(home, 1776, "node1", force: false, cluster: new ClusterOptions
        {
            Servers = ["127.0.0.1:5001", "127.0.0.1:5002"],
            StoreConnectionString = "Host=db1;Database=goq;Username=goq;Password=s3cret",
            LeaseSec = 4,
            FallbackOutputDir = fallback ?? Path.Combine(home, "fallback"),
        });

    private static List<string> EntriesOf(string zip)
    {
        using var archive = ZipFile.OpenRead(zip);
        return archive.Entries.Select(e => e.FullName).ToList();
    }

    private static void WithEnvironment((string Name, string Value) variable, Action test) => WithEnvironment([variable], test);

    private static void WithEnvironment((string Name, string Value)[] variables, Action test)
    {
        var before = variables.Select(v => (v.Name, Value: Environment.GetEnvironmentVariable(v.Name))).ToList();
        try
        {
            foreach (var (name, value) in variables)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            test();
        }
        finally
        {
            foreach (var (name, value) in before)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
