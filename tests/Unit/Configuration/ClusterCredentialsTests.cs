using Goq.Configuration;
using Goq.Errors;
using Goq.Tests.Support;
using Goq.Worker;

namespace Goq.Tests.Configuration;

public sealed class ClusterCredentialsTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void SavedCredentials_LoadBack_AndArePrivate()
    {
        var dot = _dir.Combine(".goq");
        var keys = ClusterCredentials.Generate();
        keys.Save(dot);

        var server = ClusterCredentials.Load(dot, forServer: true);
        Assert.Equal(keys.Secret, server.Secret);
        Assert.Equal(keys.ServerPublicKey, server.ServerPublicKey);
        Assert.Equal(keys.ServerSecretKey, server.ServerSecretKey);
        Assert.Null(ClusterCredentials.Load(dot, forServer: false).ServerSecretKey);
        Assert.DoesNotContain(keys.SecretText, keys.ToString());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dot));
            foreach (var file in new[] { ClusterCredentials.SecretFile, ClusterCredentials.ServerPublicFile, ClusterCredentials.ServerSecretFile })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dot, file)));
            }
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("zz")]
    [InlineData("0011")]
    public void MissingOrBadSecret_IsAClearSecurityError_ThatNamesTheFileNotItsContent(string? content)
    {
        var dot = _dir.Combine(".goq");
        ClusterCredentials.Generate().Save(dot);
        var path = Path.Combine(dot, ClusterCredentials.SecretFile);
        if (content is null)
        {
            File.Delete(path);
        }
        else
        {
            File.WriteAllText(path, content);
        }

        var ex = Assert.Throws<GoqException>(() => ClusterCredentials.Load(dot, forServer: false));
        Assert.Equal(GoqErrorIds.CredentialsMissing, ex.ErrorId);
        Assert.Equal(GoqErrorKind.Security, ex.Kind);
        Assert.Contains(path, ex.Message);
        if (content is not null)
        {
            Assert.DoesNotContain($"'{content}'", ex.Message);
        }
    }

    [Fact]
    public void Initialize_NeverOverwritesKeys_WithoutForce()
    {
        var first = GoqHomeInitializer.Initialize(_dir.Path, 4000, null, force: false);
        var secret = File.ReadAllText(_dir.Combine(".goq", ClusterCredentials.SecretFile));
        File.Delete(_dir.Combine(".goq", "config.json")); // even with the config gone, the keys stay

        Assert.Equal(GoqErrorIds.HomeAlreadyInitialized,
            Assert.Throws<GoqException>(() => GoqHomeInitializer.Initialize(_dir.Path, 4000, null, force: false)).ErrorId);
        Assert.Equal(secret, File.ReadAllText(_dir.Combine(".goq", ClusterCredentials.SecretFile)));

        var second = GoqHomeInitializer.Initialize(_dir.Path, 4000, null, force: true);
        Assert.NotEqual(secret, File.ReadAllText(_dir.Combine(".goq", ClusterCredentials.SecretFile)));
        Assert.NotEqual(first.ServerPublicKey, second.ServerPublicKey);
    }

    [Fact]
    public void TheSecret_NeverReachesAJobsEnvironment()
    {
        // goq's TestEnvCannotContainKey: GOQ_* names and anything holding the secret are filtered out.
        var secret = ClusterCredentials.Generate().SecretText;
        var env = new Dictionary<string, string?>
        {
            ["UNTOUCHED"] = "sane",
            ["SHALLNOTPASS"] = secret,
            ["ALSO"] = "prefix-" + secret.ToUpperInvariant() + "-suffix",
            ["GOQ_JSERV_IP"] = "1.2.3.4",
            ["goq_home"] = "/x",
        };
        var spec = new JobSpec
        {
            Kind = JobKind.Shell,
            Command = "true",
            CapturedEnvironment = new Dictionary<string, string> { ["CAPTURED_" + secret] = "1", ["KEPT"] = "yes" },
            Environment = new Dictionary<string, string> { ["EXPLICIT"] = secret },
        };
        JobEnvironment.Apply(env, spec, "/tmp", [secret]);
        Assert.Equal(["KEPT", "PWD", "UNTOUCHED"], env.Keys.Order());
        Assert.DoesNotContain(env, e => e.Value?.Contains(secret, StringComparison.OrdinalIgnoreCase) ?? false);

        var captured = JobEnvironment.Capture([new("A", "1"), new("B", secret), new("GOQ_X", "2")], [secret]);
        Assert.Equal(["A"], captured.Keys);
    }

    public void Dispose() => _dir.Dispose();
}
