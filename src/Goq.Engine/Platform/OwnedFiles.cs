using System.Runtime.InteropServices;
using System.Text;
using Goq.Errors;

namespace Goq.Platform;

/// <summary>
/// Writes files for a user, from a process with more rights than theirs (root), with no more rights than theirs: every
/// folder is opened with O_NOFOLLOW and must be a real folder owned by the user (or, for a folder above, by root); a
/// file is written to a new temporary name (O_EXCL, never through a link), given to the user (fchown) and renamed into
/// place, which replaces a link itself rather than what it points at. A folder that is a link, or owned by someone
/// else, fails the write with its path, and nothing is created there. Linux only (statx, openat).
/// </summary>
public static unsafe class OwnedFiles
{
    private const int ONofollow = 0x20000;
    private const int ODirectory = 0x10000;
    private const int OExcl = 0x80;
    private const int AtFdcwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const int Eexist = 17;
    private const int Enoent = 2;

    /// <summary>
    /// Makes <paramref name="folder"/> (a child of <paramref name="parent"/>, which the user owns) a folder of the user's
    /// (0700), if it is not one, and writes each file into it (0600), all owned by <paramref name="account"/>; the files
    /// named in <paramref name="remove"/> go (the names themselves: a link is removed, never followed).
    /// </summary>
    public static void WritePrivate(UserAccount account, string parent, string folder, IReadOnlyDictionary<string, byte[]> files,
        IReadOnlyCollection<string>? remove = null)
    {
        var parentFd = OpenFolder(AtFdcwd, parent, account, mayBeRoot: false, parent);
        try
        {
            var path = Path.Combine(parent, folder);
            if (Mkdirat(parentFd, folder, 0x1C0) == 0)
            {
                var made = OpenFolder(parentFd, folder, account, mayBeRoot: true, path);
                Check(fchown(made, account.Uid, account.Gid), path);
                close(made);
            }

            var dirFd = OpenFolder(parentFd, folder, account, mayBeRoot: false, path);
            try
            {
                Check(fchmod(dirFd, 0x1C0), path);
                foreach (var (name, content) in files)
                {
                    WriteFile(dirFd, Path.Combine(path, name), name, content, account);
                }

                foreach (var name in remove ?? [])
                {
                    Unlinkat(dirFd, name);
                }
            }
            finally
            {
                close(dirFd);
            }
        }
        finally
        {
            close(parentFd);
        }
    }

    private static void WriteFile(int dirFd, string path, string name, byte[] content, UserAccount account)
    {
        var temp = name + ".tmp";
        Unlinkat(dirFd, temp); // a stale one (or a link someone put there): removed itself, never followed
        int fd;
        fixed (byte* p = Bytes(temp))
        {
            fd = openat(dirFd, p, LibC.OWronly | LibC.OCreat | OExcl | ONofollow | LibC.OCloexec, 0x180);
        }

        Check(fd, path);
        try
        {
            Check(fchown(fd, account.Uid, account.Gid), path);
            Check(fchmod(fd, 0x180), path);
            fixed (byte* c = content)
            {
                var written = 0;
                while (written < content.Length)
                {
                    var n = LibC.write(fd, c + written, content.Length - written);
                    Check((int)Math.Min(n, 0), path);
                    written += (int)n;
                }
            }

            Check(LibC.fsync(fd), path);
        }
        finally
        {
            close(fd);
        }

        fixed (byte* from = Bytes(temp))
        fixed (byte* to = Bytes(name))
        {
            Check(renameat(dirFd, from, dirFd, to), path);
        }
    }

    /// <summary>Opens a folder without following a link, and checks it is a folder of the user's (or root's, for one just made).</summary>
    private static int OpenFolder(int at, string path, UserAccount account, bool mayBeRoot, string shown)
    {
        int fd;
        fixed (byte* p = Bytes(path))
        {
            fd = openat(at, p, LibC.ORdonly | ODirectory | ONofollow | LibC.OCloexec, 0);
        }

        if (fd < 0)
        {
            var errno = Marshal.GetLastWin32Error();
            throw Refused(shown, errno is 40 /* ELOOP */ or 20 /* ENOTDIR */ ? "it is a link or not a folder" : LibC.ErrorText(errno));
        }

        var owner = OwnerOf(fd);
        if (owner != account.Uid && !(mayBeRoot && owner == 0))
        {
            close(fd);
            throw Refused(shown, $"it belongs to uid {owner}, not to {account.Name} (uid {account.Uid})");
        }

        return fd;
    }

    private static int OwnerOf(int fd)
    {
        var buffer = stackalloc byte[256]; // struct statx is 256 bytes, the same on every architecture
        fixed (byte* empty = Bytes(""))
        {
            if (statx(fd, empty, AtEmptyPath, 0x8 /* STATX_UID */, buffer) != 0)
            {
                return -1;
            }
        }

        return *(int*)(buffer + 20); // stx_uid
    }

    private static int Mkdirat(int at, string name, int mode)
    {
        fixed (byte* p = Bytes(name))
        {
            if (mkdirat(at, p, mode) == 0)
            {
                return 0;
            }
        }

        var errno = Marshal.GetLastWin32Error();
        return errno == Eexist ? -1 : throw Refused(name, LibC.ErrorText(errno));
    }

    private static void Unlinkat(int at, string name)
    {
        fixed (byte* p = Bytes(name))
        {
            if (unlinkat(at, p, 0) != 0 && Marshal.GetLastWin32Error() is var errno && errno != Enoent)
            {
                throw Refused(name, LibC.ErrorText(errno));
            }
        }
    }

    private static void Check(int result, string path)
    {
        if (result < 0)
        {
            throw Refused(path, LibC.ErrorText(Marshal.GetLastWin32Error()));
        }
    }

    private static GoqException Refused(string path, string why) =>
        new(GoqErrorIds.FileNotWritable, GoqErrorKind.NotWritable, $"cannot write '{path}' for its user: {why}; nothing was written there") { Target = path };

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s + "\0");

    [DllImport("libc", SetLastError = true)]
    private static extern int openat(int dirfd, byte* path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkdirat(int dirfd, byte* path, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlinkat(int dirfd, byte* path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int renameat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath);

    [DllImport("libc", SetLastError = true)]
    private static extern int fchown(int fd, int owner, int group);

    [DllImport("libc", SetLastError = true)]
    private static extern int fchmod(int fd, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
