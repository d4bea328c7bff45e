using System.Text;
using Goq.Errors;
using Goq.Identity;
using Goq.Platform;

namespace Goq.Configuration;

/// <summary>
/// A user's client home in a multi-user cluster: the cluster's config, the server's public key and the user's own key
/// (never the cluster secret). Written where the user's account has its home (by root, as the user's own files, see
/// <see cref="OwnedFiles"/>), or as an archive that Import-GoqHome installs on another host.
/// </summary>
public static class UserHomes
{
    /// <summary>The files of <paramref name="key"/>'s home, for the cluster whose server home is <paramref name="server"/>.</summary>
    public static IReadOnlyDictionary<string, byte[]> Files(GoqSettings server, UserKey key) => new Dictionary<string, byte[]>(StringComparer.Ordinal)
    {
        [HomeArchive.ConfigEntry] = File.ReadAllBytes(server.ConfigPath),
        [ClusterCredentials.ServerPublicFile] = File.ReadAllBytes(Path.Combine(server.DotDir, ClusterCredentials.ServerPublicFile)),
        [UserKey.FileName] = Encoding.UTF8.GetBytes(key.ToFileText()),
    };

    /// <summary>
    /// The account a home is written for on this host, checked before a key is made for it: it must exist, have a home
    /// folder, and this process must be root to write there as the user.
    /// </summary>
    public static UserAccount AccountToWrite(string user)
    {
        if (!OperatingSystem.IsLinux() || UserAccounts.EffectiveUid != 0)
        {
            throw new GoqException(GoqErrorIds.FileNotWritable, GoqErrorKind.InvalidOperation,
                $"only root writes {user}'s client home on this host; run Grant-GoqUser as root, or give -OutFile to write an archive that {user} imports (Import-GoqHome)")
            { Target = user };
        }

        var account = UserAccounts.Find(user) ?? throw new GoqException(GoqErrorIds.UserNotFound, GoqErrorKind.NotFound,
            $"this host has no account '{user}' to write a client home for; give -OutFile to write an archive that {user} imports on their host") { Target = user };
        if (!Directory.Exists(account.Home))
        {
            throw new GoqException(GoqErrorIds.FileNotWritable, GoqErrorKind.NotWritable,
                $"{user}'s home folder '{account.Home}' does not exist; create it (useradd -m) or give -OutFile") { Target = account.Home };
        }

        return account;
    }

    /// <summary>
    /// Writes the home into the account's home folder as <c>.goq</c> (0700, files 0600, all the user's); returns its
    /// path. A cluster secret left there from before (the user's home of a one-secret cluster) goes: a home signs with
    /// one credential, and the secret would win.
    /// </summary>
    public static string Write(UserAccount account, GoqSettings server, UserKey key)
    {
        OwnedFiles.WritePrivate(account, account.Home, GoqDefaults.DotDir, Files(server, key), remove: [ClusterCredentials.SecretFile, ClusterCredentials.ServerSecretFile]);
        return Path.Combine(account.Home, GoqDefaults.DotDir);
    }
}
