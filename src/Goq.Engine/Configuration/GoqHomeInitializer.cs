using System.Text.Json;
using Goq.Errors;

namespace Goq.Configuration;

/// <summary>Creates a home's <c>.goq</c> folder: the config file, the cluster secret and the server's CURVE keys.</summary>
public static class GoqHomeInitializer
{
    /// <summary>True when the folder already holds a Goq home (a config file or keys).</summary>
    public static bool IsHome(string root)
    {
        var probe = new GoqSettings { Home = root };
        return File.Exists(probe.ConfigPath) || ClusterCredentials.ExistIn(probe.DotDir);
    }

    /// <param name="multiUser">
    /// A multi-user cluster (users with keys of their own, see <see cref="Identity.UserKey"/>); null keeps what the home
    /// had (a home that was not one stays as it is).
    /// </param>
    /// <param name="privateJobs">Users list only their own jobs; null keeps what the home had.</param>
    /// <param name="cluster">Several servers, a PostgreSQL store, a shared fall-back folder (see <see cref="ClusterOptions"/>); null keeps what the home had.</param>
    public static HomeInfo Initialize(string? home, int? port, string? serverHost, bool force, bool? multiUser = null, bool? privateJobs = null,
        ClusterOptions? cluster = null)
    {
        var root = GoqSettings.ResolveHome(home);
        var probe = new GoqSettings { Home = root };
        if ((File.Exists(probe.ConfigPath) || ClusterCredentials.ExistIn(probe.DotDir)) && !force)
        {
            throw new GoqException(GoqErrorIds.HomeAlreadyInitialized, GoqErrorKind.AlreadyExists,
                $"'{root}' is already a Goq home; -Force overwrites its configuration and makes new keys (then export it again and import it on every worker and client: Export-GoqHome, Import-GoqHome -Force)")
            { Target = root };
        }

        if (port is < 1 or > 65535)
        {
            throw new GoqException(GoqErrorIds.InvalidConfig, GoqErrorKind.InvalidArgument, $"port {port} is out of range");
        }

        ThrowIfServerRuns(probe, "re-initializing its home");

        // Re-initializing keeps where the server is unless told otherwise: only the keys are new.
        var existing = TryReadConfig(probe.ConfigPath);
        var config = new GoqConfig
        {
            Port = port ?? existing?.Port ?? GoqDefaults.Port,
            ServerHost = !string.IsNullOrWhiteSpace(serverHost) ? serverHost : existing?.ServerHost ?? GoqDefaults.ServerHost,
        };
        if (existing is not null)
        {
            config.BindAddress = existing.BindAddress;
            config.HeartbeatSec = existing.HeartbeatSec;
            config.DeadWorkerSec = existing.DeadWorkerSec;
            config.OutputDir = existing.OutputDir;
            config.ReplayWindowSec = existing.ReplayWindowSec;
            config.SubmitRetrySec = existing.SubmitRetrySec;
            config.MaxJobRecordMiB = existing.MaxJobRecordMiB;
            config.ConnectTimeoutSec = existing.ConnectTimeoutSec;
            config.RecentJobs = existing.RecentJobs;
            config.MultiUser = existing.MultiUser;
            config.PrivateJobs = existing.PrivateJobs;
            config.Servers = existing.Servers;
            config.StoreConnectionString = existing.StoreConnectionString;
            config.LeaseSec = existing.LeaseSec;
            config.FallbackOutputDir = existing.FallbackOutputDir;
        }

        string? storePassword = null;
        if (cluster is not null)
        {
            config.Servers = cluster.Servers is { Count: > 0 } servers ? [.. servers] : config.Servers;
            foreach (var server in config.Servers ?? [])
            {
                try
                {
                    _ = ServerEntry.Parse(server);
                }
                catch (JsonException ex)
                {
                    throw new GoqException(GoqErrorIds.InvalidConfig, GoqErrorKind.InvalidArgument, ex.Message) { Target = server };
                }
            }

            if (cluster.StoreConnectionString is { } connection)
            {
                // Checkpoint (secrets): the password never sits in config.json; it goes to .goq/store.password (0600).
                (config.StoreConnectionString, storePassword) = StoreConnection.WithoutPassword(connection);
            }

            config.LeaseSec = cluster.LeaseSec ?? config.LeaseSec;
            config.FallbackOutputDir = cluster.FallbackOutputDir is { } fallback ? Path.GetFullPath(fallback) : config.FallbackOutputDir;
        }

        if (multiUser is { } multi)
        {
            config.MultiUser = multi ? true : null;
        }

        if (privateJobs is { } priv)
        {
            config.PrivateJobs = priv ? true : null;
        }

        CreatePrivateDirectory(probe.DotDir);

        // Checkpoint (credentials): a new secret and server key pair, written 0600 in a 0700 folder, before the config
        // that makes the home usable.
        var credentials = ClusterCredentials.Generate();
        credentials.Save(probe.DotDir);
        if (storePassword is not null)
        {
            WritePrivateFile(probe.StorePasswordPath, System.Text.Encoding.UTF8.GetBytes(storePassword));
        }

        WritePrivateFile(probe.ConfigPath, JsonSerializer.SerializeToUtf8Bytes(config, ConfigJsonContext.Default.GoqConfig));

        var settings = GoqSettings.FromConfig(root, config);
        return new HomeInfo
        {
            Path = root,
            ConfigPath = settings.ConfigPath,
            Endpoint = settings.Endpoint,
            ServerPublicKey = Convert.ToHexString(credentials.ServerPublicKey).ToLowerInvariant(),
            MultiUser = config.MultiUser == true,
        };
    }

    /// <summary>
    /// Refuses to change a home's keys while its server runs (Checkpoint: new keys under a running server would leave it
    /// unreachable and unstoppable by this home). <paramref name="before"/> says what waits for the stop.
    /// </summary>
    internal static void ThrowIfServerRuns(GoqSettings home, string before)
    {
        if (ServerRecord.RunningPid(home) is { } running)
        {
            throw new GoqException(GoqErrorIds.ServerAlreadyRunning, GoqErrorKind.ResourceUnavailable,
                $"the Goq server of '{home.Home}' runs{(running > 0 ? $" (pid {running})" : "")}; stop it (Stop-GoqServer) before {before}")
            { Target = home.Home };
        }
    }

    private static GoqConfig? TryReadConfig(string path)
    {
        try
        {
            return File.Exists(path) ? GoqSettings.ReadConfig(path) : null;
        }
        catch (GoqException)
        {
            return null; // a broken config is replaced whole
        }
    }

    /// <summary>Creates a directory only its owner can enter (0700 on Unix).</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>
    /// Replaces a file whole: written to a temporary file that is 0600 from the moment it exists (a secret is never
    /// readable by others, not even for a moment), then moved into place.
    /// </summary>
    public static void WritePrivateFile(string path, byte[] content)
    {
        var temp = path + ".tmp";
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        {
            stream.Write(content);
        }

        RestrictFile(temp); // the umask may have taken bits away, never added: this only makes it exact
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Makes a file readable by its owner only (0600 on Unix).</summary>
    public static void RestrictFile(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
