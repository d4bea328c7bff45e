using System.IO.Compression;
using System.Text.Json;
using Goq.Errors;

namespace Goq.Configuration;

/// <summary>
/// What another host needs to join a cluster, in one zip file: the home's config, the cluster secret and the server's
/// public key, with a small manifest. Never the server's secret key, the job database, logs, locks or run files. The
/// archive holds the cluster secret, so it is written 0600; whoever holds it can submit jobs and run workers.
/// A user's archive of a multi-user cluster (Grant-GoqUser -OutFile) holds that user's key instead of the secret.
/// </summary>
public static class HomeArchive
{
    public const string ManifestEntry = "goq-home.json";
    public const string ConfigEntry = "config.json";

    private const int MaxEntryBytes = 64 * 1024; // a config and two keys; anything larger is not one of ours

    private static readonly string[] Entries = [ManifestEntry, ConfigEntry, ClusterCredentials.SecretFile, ClusterCredentials.ServerPublicFile];

    // A server's archive (-Role Server, for a standby) adds the server's secret CURVE key and the store's password.
    private static readonly string[] ServerEntries = [ClusterCredentials.ServerSecretFile, StorePasswordEntry];

    private const string StorePasswordEntry = "store.password";

    // A user's archive: the user's key in the place of the cluster secret.
    private static readonly string[] UserEntries = [ManifestEntry, ConfigEntry, Identity.UserKey.FileName, ClusterCredentials.ServerPublicFile];

    /// <summary>Writes the archive of <paramref name="settings"/>' home to <paramref name="zipPath"/> (replaced whole).</summary>
    public static HomeArchiveInfo Export(GoqSettings settings, string zipPath, string role)
    {
        var credentials = settings.LoadCredentials(); // fails with GoqCredentialsMissing on a home without them
        var manifest = new HomeArchiveManifest
        {
            Role = role,
            ServerPublicKey = Hex(credentials.ServerPublicKey),
            Endpoint = settings.Endpoint,
            Version = GoqVersion.Current,
            ExportedAt = DateTimeOffset.UtcNow,
        };
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [ManifestEntry] = JsonSerializer.SerializeToUtf8Bytes(manifest, ConfigJsonContext.Default.HomeArchiveManifest),
            [ConfigEntry] = File.ReadAllBytes(settings.ConfigPath),
            [ClusterCredentials.SecretFile] = File.ReadAllBytes(Path.Combine(settings.DotDir, ClusterCredentials.SecretFile)),
            [ClusterCredentials.ServerPublicFile] = File.ReadAllBytes(Path.Combine(settings.DotDir, ClusterCredentials.ServerPublicFile)),
        };
        if (role.Equals("Server", StringComparison.OrdinalIgnoreCase)) // as PowerShell passes it: -Role server is the same role
        {
            // Checkpoint (secrets): only a server's archive carries the server's secret key; a worker's or client's never does.
            contents[ClusterCredentials.ServerSecretFile] = File.ReadAllBytes(Path.Combine(settings.DotDir, ClusterCredentials.ServerSecretFile));
            if (File.Exists(settings.StorePasswordPath))
            {
                contents[StorePasswordEntry] = File.ReadAllBytes(settings.StorePasswordPath);
            }
        }

        Write(zipPath, contents);
        return new HomeArchiveInfo { Path = Path.GetFullPath(zipPath), Role = role, Endpoint = settings.Endpoint, ServerPublicKey = manifest.ServerPublicKey };
    }

    /// <summary>Writes a user's archive: the server home's config and public key, and the user's key (Grant-GoqUser -OutFile).</summary>
    public static HomeArchiveInfo ExportUser(GoqSettings server, Identity.UserKey key, string zipPath)
    {
        var manifest = new HomeArchiveManifest
        {
            Role = "user " + key.User,
            ServerPublicKey = Hex(server.LoadCredentials().ServerPublicKey),
            Endpoint = server.Endpoint,
            Version = GoqVersion.Current,
            ExportedAt = DateTimeOffset.UtcNow,
        };
        var contents = new Dictionary<string, byte[]>(UserHomes.Files(server, key), StringComparer.Ordinal)
        {
            [ManifestEntry] = JsonSerializer.SerializeToUtf8Bytes(manifest, ConfigJsonContext.Default.HomeArchiveManifest),
        };
        Write(zipPath, contents);
        return new HomeArchiveInfo { Path = Path.GetFullPath(zipPath), Role = manifest.Role, Endpoint = server.Endpoint, ServerPublicKey = manifest.ServerPublicKey };
    }

    private static void Write(string zipPath, Dictionary<string, byte[]> contents)
    {
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var name in contents.Keys.Order(StringComparer.Ordinal))
            {
                var entry = archive.CreateEntry(name, CompressionLevel.Optimal);
                entry.ExternalAttributes = Convert.ToInt32("100600", 8) << 16; // a regular file, 0600, for any unzip
                using var stream = entry.Open();
                stream.Write(contents[name]);
            }
        }

        // Checkpoint (secrets): the archive holds the cluster secret (or a user's key), so it is 0600 from the moment it exists.
        Writing(zipPath, () => GoqHomeInitializer.WritePrivateFile(zipPath, zip.ToArray()));
    }

    /// <summary>
    /// Makes <paramref name="home"/> a home of the archive's cluster: its <c>.goq</c> folder (0700) gets the config and
    /// keys (0600). A home of another cluster is refused unless <paramref name="force"/>; then its own server key goes
    /// too, since it would not match the new cluster. Nothing is written when the archive is not valid.
    /// </summary>
    public static HomeInfo Import(string zipPath, string? home, bool force)
    {
        var contents = Read(zipPath);
        var root = GoqSettings.ResolveHome(home);
        var target = new GoqSettings { Home = root };
        // The cluster secret, or in a user's archive the user's key: the one credential the home signs with.
        var credentialFile = contents.ContainsKey(ClusterCredentials.SecretFile) ? ClusterCredentials.SecretFile : Identity.UserKey.FileName;
        var secret = contents[credentialFile];
        var serverPublic = contents[ClusterCredentials.ServerPublicFile];
        if (ClusterCredentials.ExistIn(target.DotDir))
        {
            var same = Same(target.DotDir, credentialFile, secret) && Same(target.DotDir, ClusterCredentials.ServerPublicFile, serverPublic);
            if (!same && !force)
            {
                throw new GoqException(GoqErrorIds.HomeOfAnotherCluster, GoqErrorKind.AlreadyExists,
                    $"'{root}' is a home of another cluster (other keys); -Force makes it join the archive's cluster instead")
                { Target = root };
            }

            if (!same)
            {
                GoqHomeInitializer.ThrowIfServerRuns(target, "importing another cluster's keys");
                File.Delete(Path.Combine(target.DotDir, ClusterCredentials.ServerSecretFile));
                // The other credential goes too: a home signs with one, and a cluster secret left behind would win.
                File.Delete(Path.Combine(target.DotDir, credentialFile == ClusterCredentials.SecretFile ? Identity.UserKey.FileName : ClusterCredentials.SecretFile));
            }
        }

        // Checkpoint (credentials): keys written 0600 in a 0700 folder before the config that makes the home usable.
        Writing(target.DotDir, () =>
        {
            GoqHomeInitializer.CreatePrivateDirectory(target.DotDir);
            GoqHomeInitializer.WritePrivateFile(Path.Combine(target.DotDir, credentialFile), secret);
            GoqHomeInitializer.WritePrivateFile(Path.Combine(target.DotDir, ClusterCredentials.ServerPublicFile), serverPublic);
            foreach (var serverFile in ServerEntries.Where(contents.ContainsKey))
            {
                GoqHomeInitializer.WritePrivateFile(Path.Combine(target.DotDir, serverFile), contents[serverFile]);
            }

            GoqHomeInitializer.WritePrivateFile(target.ConfigPath, contents[ConfigEntry]);
        });
        var settings = GoqSettings.Load(root);
        return new HomeInfo
        {
            Path = root,
            ConfigPath = settings.ConfigPath,
            Endpoint = settings.Endpoint,
            ServerPublicKey = Hex(settings.LoadCredentials().ServerPublicKey),
            MultiUser = settings.MultiUser,
        };
    }

    /// <summary>The archive's files, each checked: exactly our four names, small, a config that parses, keys that are keys.</summary>
    private static Dictionary<string, byte[]> Read(string zipPath)
    {
        GoqException Invalid(string why) =>
            new(GoqErrorIds.InvalidHomeArchive, GoqErrorKind.InvalidData, $"'{zipPath}' is not a Goq home archive: {why}") { Target = zipPath };

        if (!File.Exists(zipPath))
        {
            throw new GoqException(GoqErrorIds.InvalidHomeArchive, GoqErrorKind.NotFound, $"there is no file at '{zipPath}'") { Target = zipPath };
        }

        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var archive = ZipFile.OpenRead(zipPath);
            foreach (var entry in archive.Entries)
            {
                // Checkpoint (hostile archives): only our own flat names are taken; a path, a folder or anything else
                // refuses the whole file, so nothing is ever written outside .goq.
                if (!(Entries.Contains(entry.FullName, StringComparer.Ordinal) || UserEntries.Contains(entry.FullName, StringComparer.Ordinal)
                      || ServerEntries.Contains(entry.FullName, StringComparer.Ordinal))
                    || contents.ContainsKey(entry.FullName))
                {
                    throw Invalid($"it holds '{entry.FullName}', which a home archive never does");
                }

                if (entry.Length > MaxEntryBytes)
                {
                    throw Invalid($"'{entry.FullName}' is {entry.Length} bytes, more than a home's file ever is");
                }

                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                if (buffer.Length > MaxEntryBytes)
                {
                    throw Invalid($"'{entry.FullName}' is larger than a home's file ever is");
                }

                contents[entry.FullName] = buffer.ToArray();
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw Invalid(ex.Message);
        }

        var isUsers = contents.ContainsKey(Identity.UserKey.FileName);
        if (isUsers && contents.ContainsKey(ClusterCredentials.SecretFile))
        {
            throw Invalid($"it holds both a cluster secret and a user key");
        }

        foreach (var name in (isUsers ? UserEntries : Entries).Where(n => !contents.ContainsKey(n)))
        {
            throw Invalid($"it has no '{name}'");
        }

        foreach (var key in isUsers ? [ClusterCredentials.ServerPublicFile] : new[] { ClusterCredentials.SecretFile, ClusterCredentials.ServerPublicFile })
        {
            if (!ClusterCredentials.IsKeyText(contents[key]))
            {
                throw Invalid($"'{key}' is not a key");
            }
        }

        if (isUsers && Identity.UserKey.Parse(System.Text.Encoding.UTF8.GetString(contents[Identity.UserKey.FileName])) is null)
        {
            throw Invalid($"'{Identity.UserKey.FileName}' is not a user key");
        }

        HomeArchiveManifest manifest;
        try
        {
            _ = JsonSerializer.Deserialize(contents[ConfigEntry], ConfigJsonContext.Default.GoqConfig) ?? throw new JsonException("empty");
            manifest = JsonSerializer.Deserialize(contents[ManifestEntry], ConfigJsonContext.Default.HomeArchiveManifest) ?? throw new JsonException("empty");
        }
        catch (JsonException ex)
        {
            throw Invalid($"its config or manifest does not parse ({ex.Message})");
        }

        // Checkpoint (secrets): the server's secret key and the store's password come only in a server's archive (for a
        // standby), never in a worker's, a client's or a user's, however the archive was put together.
        if (ServerEntries.FirstOrDefault(contents.ContainsKey) is { } serverFile)
        {
            if (isUsers || !string.Equals(manifest.Role, "Server", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid($"it holds '{serverFile}', which only a server's archive (Export-GoqHome -Role Server) does");
            }

            if (contents.TryGetValue(ClusterCredentials.ServerSecretFile, out var serverSecret) && !ClusterCredentials.IsKeyText(serverSecret))
            {
                throw Invalid($"'{ClusterCredentials.ServerSecretFile}' is not a key");
            }
        }

        return contents;
    }

    private static void Writing(string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GoqException(GoqErrorIds.FileNotWritable, GoqErrorKind.ResourceUnavailable, $"cannot write '{path}': {ex.Message}", ex) { Target = path };
        }
    }

    private static bool Same(string dotDir, string name, byte[] content)
    {
        var path = Path.Combine(dotDir, name);
        return File.Exists(path) && File.ReadAllText(path).Trim().Equals(System.Text.Encoding.UTF8.GetString(content).Trim(), StringComparison.OrdinalIgnoreCase);
    }

    private static string Hex(byte[] key) => Convert.ToHexString(key).ToLowerInvariant();
}
