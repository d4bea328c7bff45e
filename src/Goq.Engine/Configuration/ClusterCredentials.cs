using System.Security.Cryptography;
using System.Text;
using Goq.Errors;
using Goq.Identity;
using NetMQ;

namespace Goq.Configuration;

/// <summary>
/// What lets a process into a cluster: the 32-byte cluster secret (the HMAC key every message is signed with) and the
/// server's CURVE key pair. Workers and clients hold the secret and the server's public key; only the server needs
/// its secret key. Stored in a home's <c>.goq</c> folder (mode 0700) as hex, one value per file (mode 0600).
/// In a multi-user cluster a user's home holds their own key (<see cref="UserKey"/>) instead of the cluster secret:
/// <see cref="Secret"/> is then that key, and <see cref="User"/> says whose it is.
/// </summary>
public sealed class ClusterCredentials
{
    public const string SecretFile = "cluster.secret";
    public const string ServerPublicFile = "server.public";
    public const string ServerSecretFile = "server.secret";
    private const int KeyBytes = 32;

    private ClusterCredentials(byte[] secret, byte[] serverPublicKey, byte[]? serverSecretKey, UserKey? user = null)
    {
        Secret = secret;
        ServerPublicKey = serverPublicKey;
        ServerSecretKey = serverSecretKey;
        User = user;
    }

    /// <summary>
    /// The HMAC-SHA256 key this end signs with: the cluster secret, or a user's key. Never logged, never put in a job's
    /// environment or an error message.
    /// </summary>
    public byte[] Secret { get; }

    /// <summary>A multi-user cluster's user key this home holds instead of the cluster secret; null for the cluster secret.</summary>
    public UserKey? User { get; }

    /// <summary>The id a message signed with <see cref="User"/>'s key names (see <see cref="Transport.WireCodec"/>); null for the cluster secret.</summary>
    public byte[]? KeyId => User?.KeyId;

    public byte[] ServerPublicKey { get; }

    /// <summary>The server's CURVE secret key; null for workers and clients that do not need it.</summary>
    public byte[]? ServerSecretKey { get; }

    /// <summary>The secret as it is written in <see cref="SecretFile"/>, so it can be kept out of job environments.</summary>
    public string SecretText => Convert.ToHexString(Secret).ToLowerInvariant();

    /// <summary>New random credentials: a cluster secret and a CURVE key pair for the server.</summary>
    public static ClusterCredentials Generate()
    {
        var pair = new NetMQCertificate();
        return new ClusterCredentials(RandomNumberGenerator.GetBytes(KeyBytes), pair.PublicKey, pair.SecretKey);
    }

    /// <summary>True when the home's folder already holds any credential file.</summary>
    public static bool ExistIn(string dotDir) =>
        new[] { SecretFile, ServerPublicFile, ServerSecretFile, UserKey.FileName }.Any(f => File.Exists(Path.Combine(dotDir, f)));

    /// <summary>
    /// Reads a home's credentials; the server's secret key only when <paramref name="forServer"/>. A home with a user key
    /// and no cluster secret (a user's, in a multi-user cluster) signs with the user key.
    /// </summary>
    public static ClusterCredentials Load(string dotDir, bool forServer)
    {
        if (!forServer && !File.Exists(Path.Combine(dotDir, SecretFile)) && UserKey.Load(dotDir) is { } user)
        {
            return new ClusterCredentials(user.Key, ReadKey(dotDir, ServerPublicFile), null, user);
        }

        var secret = ReadKey(dotDir, SecretFile);
        var serverPublic = ReadKey(dotDir, ServerPublicFile);
        var serverSecret = forServer ? ReadKey(dotDir, ServerSecretFile) : null;
        return new ClusterCredentials(secret, serverPublic, serverSecret);
    }

    /// <summary>A user's credentials: their key and the server's public key (what Grant-GoqUser writes into their home).</summary>
    public static ClusterCredentials ForUser(UserKey user, byte[] serverPublicKey) => new(user.Key, serverPublicKey, null, user);

    /// <summary>Credentials with another cluster secret (tests: a peer that must be refused).</summary>
    public ClusterCredentials WithSecret(byte[] secret) => new(secret, ServerPublicKey, ServerSecretKey, User);

    /// <summary>What a worker or client needs: the same, without the server's secret key.</summary>
    public ClusterCredentials ForPeers() => new(Secret, ServerPublicKey, null, User);

    /// <summary>The same secret, for talking to another CURVE server (a worker's job keeper) by its public key.</summary>
    public ClusterCredentials ForServerKey(byte[] publicKey) => new(Secret, publicKey, null, User);

    /// <summary>Writes the three files, each first to a temporary file (0600) then moved into place.</summary>
    public void Save(string dotDir)
    {
        GoqHomeInitializer.CreatePrivateDirectory(dotDir);
        if (User is not null)
        {
            GoqHomeInitializer.WritePrivateFile(Path.Combine(dotDir, UserKey.FileName), Encoding.UTF8.GetBytes(User.ToFileText()));
            Write(dotDir, ServerPublicFile, ServerPublicKey);
            return;
        }

        Write(dotDir, SecretFile, Secret);
        Write(dotDir, ServerPublicFile, ServerPublicKey);
        if (ServerSecretKey is not null)
        {
            Write(dotDir, ServerSecretFile, ServerSecretKey);
        }
    }

    public override string ToString() => "Goq cluster credentials"; // never the keys

    private static void Write(string dotDir, string name, byte[] key) =>
        GoqHomeInitializer.WritePrivateFile(Path.Combine(dotDir, name), Encoding.UTF8.GetBytes(Convert.ToHexString(key).ToLowerInvariant() + "\n"));

    /// <summary>Whether a key file's text is a key: hex for exactly <see cref="KeyBytes"/> bytes (a trailing newline allowed).</summary>
    public static bool IsKeyText(byte[] text)
    {
        try
        {
            return Convert.FromHexString(System.Text.Encoding.UTF8.GetString(text).Trim()).Length == KeyBytes;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] ReadKey(string dotDir, string name)
    {
        var path = Path.Combine(dotDir, name);
        try
        {
            var key = Convert.FromHexString(File.ReadAllText(path).Trim());
            if (key.Length != KeyBytes)
            {
                throw new FormatException($"expected {KeyBytes} bytes");
            }

            return key;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // The message names the file, never its content.
            throw new GoqException(GoqErrorIds.CredentialsMissing, GoqErrorKind.Security,
                $"cannot read the Goq credential file '{path}' ({(ex is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : ex is FormatException ? "it is not a 32-byte hex key" : ex.Message)}); "
                + "import the server home's archive (Export-GoqHome there, Import-GoqHome here), or run Initialize-GoqHome -Force there to make new keys", ex)
            { Target = path };
        }
    }
}
