using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Goq.Platform;

/// <summary>
/// Opens a job's output file without following a link in its place (O_NOFOLLOW), and without waiting on what is not a
/// regular file (O_NONBLOCK, then a check): a link, a FIFO or a device put where the file goes fails the open at once,
/// instead of a root process reading or writing through it, or the server's loop hanging on a FIFO nobody opens.
/// </summary>
public static unsafe class NoFollow
{
    private const int ONofollow = 0x20000;
    private const int ONonblock = 0x800;
    private const int AtEmptyPath = 0x1000;

    /// <summary>Opens a job's output file to read it (a FileStream of its own on systems other than Linux).</summary>
    public static FileStream OpenRead(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        }

        return new FileStream(Opened(path, LibC.ORdonly), FileAccess.Read, 1);
    }

    /// <summary>Null when this thread may search <paramref name="folder"/> (look a name up in it); else the error's text.</summary>
    public static string? CannotSearch(string folder)
    {
        const int OPath = 0x200000, ODirectory = 0x10000;
        var name = Marshal.StringToCoTaskMemUTF8(Path.Combine(folder, "."));
        try
        {
            var fd = LibC.open((byte*)name, OPath | ODirectory | LibC.OCloexec, 0);
            if (fd < 0)
            {
                return LibC.ErrorText(Marshal.GetLastPInvokeError());
            }

            LibC.close(fd);
            return null;
        }
        finally
        {
            Marshal.FreeCoTaskMem(name);
        }
    }

    internal static SafeFileHandle Open(string path, bool create) => Opened(path, LibC.OWronly | (create ? LibC.OCreat : 0));

    private static SafeFileHandle Opened(string path, int flags)
    {
        var name = Marshal.StringToCoTaskMemUTF8(path);
        int fd;
        try
        {
            fd = LibC.open((byte*)name, flags | ONofollow | ONonblock | LibC.OCloexec, Convert.ToInt32("644", 8));
        }
        finally
        {
            Marshal.FreeCoTaskMem(name);
        }

        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var why = errno == 40 ? "it is a link, which is never followed" : errno == 6 ? "it is not a regular file" : LibC.ErrorText(errno);
            throw errno == 13 ? new UnauthorizedAccessException($"cannot open '{path}': {why}") : new IOException($"cannot open '{path}': {why}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (!IsRegular(fd))
        {
            handle.Dispose();
            throw new IOException($"cannot open '{path}': it is not a regular file");
        }

        return handle;
    }

    private static bool IsRegular(int fd)
    {
        var buffer = stackalloc byte[256]; // struct statx: the same on every architecture
        var empty = stackalloc byte[1];
        empty[0] = 0;
        return statx(fd, empty, AtEmptyPath, 0x1 /* STATX_TYPE */, buffer) == 0 && (*(ushort*)(buffer + 28) & 0xF000) == 0x8000; // stx_mode is S_IFREG
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);
}
