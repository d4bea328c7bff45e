using System.Security.Cryptography;

namespace Goq.Output;

/// <summary>
/// SHA-256 of the first and of the last 4 KiB of a job's part of its output file: enough for a client to tell that the
/// file it sees under a path is the server's (not another host's file of the same name), read cheaply at any size.
/// </summary>
public static class OutputFingerprint
{
    private const int Span = 4096;

    public static (string Head, string Tail) Of(string path, long start, long bytes)
    {
        using var file = Platform.NoFollow.OpenRead(path);
        return (Hash(file, start, (int)Math.Min(Span, bytes)), Hash(file, start + Math.Max(0, bytes - Span), (int)Math.Min(Span, bytes)));
    }

    private static string Hash(FileStream file, long offset, int count)
    {
        var buffer = new byte[count];
        file.Seek(offset, SeekOrigin.Begin);
        file.ReadExactly(buffer);
        return Convert.ToHexString(SHA256.HashData(buffer));
    }
}
