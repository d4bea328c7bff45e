using System.Security.Cryptography;
using System.Text;

namespace Goq.Monitoring;

/// <summary>
/// The dashboard's token: derived from the cluster secret (HMAC-SHA256 of a fixed label), so whoever holds the secret
/// can make it and nobody else can, nothing new is stored, and a new secret (Initialize-GoqHome -Force) revokes it.
/// It is a key: never logged, never sent over the wire by the server (a client makes the URL from its own copy).
/// </summary>
public static class DashboardToken
{
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("goq dashboard token v1");

    /// <summary>32 hex digits (128 bits).</summary>
    public static string Derive(byte[] clusterSecret) =>
        Convert.ToHexString(HMACSHA256.HashData(clusterSecret, Label), 0, 16).ToLowerInvariant();

    /// <summary>Whether <paramref name="offered"/> is the token, compared in constant time.</summary>
    public static bool Matches(string token, string? offered) =>
        offered is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token), Encoding.ASCII.GetBytes(offered));
}
