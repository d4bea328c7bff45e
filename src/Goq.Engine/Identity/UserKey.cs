using System.Security.Cryptography;
using System.Text;
using Goq.Errors;

namespace Goq.Identity;

/// <summary>
/// A user's key in a multi-user cluster: 32 bytes derived by the server from the cluster secret, the key's id and the
/// user's name (HMAC-SHA256), so the server keeps no keys, only who holds which id. A client signs every message with
/// it and names its id (<see cref="Transport.WireCodec"/>); the server derives the key again from the id's record. A key
/// id given to another name, or a name claimed with another id, derives another key: a forged name fails the MAC.
/// Kept in a client home as one line of <see cref="FileName"/> (0600): <c>goq-user-key-1 NAME KEYID KEY</c>, hex.
/// </summary>
public sealed class UserKey
{
    public const string FileName = "user.key";
    public const int KeyIdBytes = 8;
    public const int KeyBytes = 32;
    private const string Tag = "goq-user-key-1";
    private static readonly byte[] Purpose = "goq user key 1\0"u8.ToArray();

    public UserKey(string user, byte[] keyId, byte[] key)
    {
        if (keyId.Length != KeyIdBytes || key.Length != KeyBytes)
        {
            throw new ArgumentException($"a user key is a {KeyIdBytes}-byte id and a {KeyBytes}-byte key");
        }

        User = user;
        KeyId = keyId;
        Key = key;
    }

    /// <summary>The user the server gave the key to (in the file for people to read: the server goes by the id).</summary>
    public string User { get; }

    public byte[] KeyId { get; }

    /// <summary>The HMAC key. Never logged, never in a job's environment or an error message.</summary>
    public byte[] Key { get; }

    public string KeyIdText => Hex(KeyId);

    /// <summary>A new random key id.</summary>
    public static byte[] NewKeyId() => RandomNumberGenerator.GetBytes(KeyIdBytes);

    /// <summary>The key of <paramref name="user"/> under <paramref name="keyId"/>, as the server of this cluster secret derives it.</summary>
    public static UserKey Derive(byte[] clusterSecret, string user, byte[] keyId)
    {
        var name = Encoding.UTF8.GetBytes(user);
        var input = new byte[Purpose.Length + KeyIdBytes + 1 + name.Length];
        Purpose.CopyTo(input, 0);
        keyId.CopyTo(input, Purpose.Length);
        name.CopyTo(input, Purpose.Length + KeyIdBytes + 1);
        return new UserKey(user, keyId.ToArray(), HMACSHA256.HashData(clusterSecret, input));
    }

    /// <summary>The key file's one line.</summary>
    public string ToFileText() => $"{Tag} {User} {KeyIdText} {Hex(Key)}\n";

    /// <summary>Reads a key file's text; null when it is not one (the caller names the file).</summary>
    public static UserKey? Parse(string text)
    {
        var parts = text.Trim().Split(' ');
        if (parts.Length != 4 || parts[0] != Tag || !UserNames.IsValid(parts[1]))
        {
            return null;
        }

        try
        {
            var id = Convert.FromHexString(parts[2]);
            var key = Convert.FromHexString(parts[3]);
            return id.Length == KeyIdBytes && key.Length == KeyBytes ? new UserKey(parts[1], id, key) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A key id as hex text, or null when the text is not one.</summary>
    public static byte[]? ParseKeyId(string text)
    {
        try
        {
            var id = Convert.FromHexString(text);
            return id.Length == KeyIdBytes ? id : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Reads the key file in a home's <c>.goq</c> folder; null when there is none.</summary>
    public static UserKey? Load(string dotDir)
    {
        var path = Path.Combine(dotDir, FileName);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GoqException(GoqErrorIds.CredentialsMissing, GoqErrorKind.Security, $"cannot read the Goq user key '{path}' ({ex.Message})", ex) { Target = path };
        }

        return Parse(text) ?? throw new GoqException(GoqErrorIds.CredentialsMissing, GoqErrorKind.Security,
            $"the Goq user key '{path}' is not a key file (ask an admin for a new one: Grant-GoqUser)") { Target = path };
    }

    public override string ToString() => $"Goq user key {KeyIdText} of {User}"; // never the key

    internal static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}

/// <summary>What a user name may be: a POSIX login name (letters, digits, '.', '_', '-', not starting with '-'), 1 to 32 characters.</summary>
public static class UserNames
{
    public const int MaxLength = 32;

    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= MaxLength } && name[0] != '-' && name[0] != '.'
        && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-');
}
