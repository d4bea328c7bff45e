using System.Runtime.InteropServices;
using System.Text;

namespace Goq.Platform;

/// <summary>An account of this host's user database (getpwnam): what a job of its user runs as.</summary>
/// <param name="Name">The login name.</param>
/// <param name="Uid">Its user id.</param>
/// <param name="Gid">Its primary group.</param>
/// <param name="Home">Its home directory.</param>
/// <param name="Shell">Its login shell.</param>
public sealed record UserAccount(string Name, int Uid, int Gid, string Home, string Shell);

/// <summary>This host's user database, read through glibc (so NSS: files, LDAP, SSSD alike). Linux only.</summary>
public static unsafe class UserAccounts
{
    /// <summary>The account named <paramref name="name"/>, or null when this host has none.</summary>
    public static UserAccount? Find(string name)
    {
        if (!OperatingSystem.IsLinux() || name.Length == 0 || name.Contains('\0'))
        {
            return null;
        }

        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var size = 16 * 1024;
        while (true)
        {
            var buffer = new byte[size];
            Passwd entry;
            Passwd* result = null;
            int error;
            fixed (byte* n = nameBytes)
            fixed (byte* b = buffer)
            {
                error = getpwnam_r(n, &entry, b, (nuint)size, &result);
                if (error == 0 && result is not null)
                {
                    return new UserAccount(Text(entry.Name) ?? name, (int)entry.Uid, (int)entry.Gid, Text(entry.Dir) ?? "/", Text(entry.Shell) is { Length: > 0 } shell ? shell : "/bin/sh");
                }
            }

            if (error == 34 /* ERANGE */ && size < 1024 * 1024)
            {
                size *= 4;
                continue;
            }

            return null; // no such user (or the database could not be read: the same to a caller)
        }
    }

    /// <summary>The account of the effective user of this process (root for a root worker).</summary>
    public static int EffectiveUid => OperatingSystem.IsLinux() ? (int)geteuid() : -1;

    private static string? Text(byte* s) => s is null ? null : Marshal.PtrToStringUTF8((nint)s);

    /// <summary>glibc's struct passwd on 64-bit Linux (x86-64 and arm64 alike).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint Uid;
        public uint Gid;
        public byte* Gecos;
        public byte* Dir;
        public byte* Shell;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getpwnam_r(byte* name, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [DllImport("libc")]
    private static extern uint geteuid();
}
