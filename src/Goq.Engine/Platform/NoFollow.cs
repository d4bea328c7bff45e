using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Goq.Platform;

/// <summary>Opens a file for writing without following a link in its place (O_NOFOLLOW): a link there fails the open. Linux only.</summary>
public static unsafe class NoFollow
{
    private const int ONofollow = 0x20000;

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

    internal static SafeFileHandle Open(string path, bool create)
    {
        var name = Marshal.StringToCoTaskMemUTF8(path);
        int fd;
        try
        {
            fd = LibC.open((byte*)name, LibC.OWronly | (create ? LibC.OCreat : 0) | ONofollow | LibC.OCloexec, Convert.ToInt32("644", 8));
        }
        finally
        {
            Marshal.FreeCoTaskMem(name);
        }

        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var why = errno == 40 ? "it is a link, which is never followed" : LibC.ErrorText(errno);
            throw errno == 13 ? new UnauthorizedAccessException($"cannot open '{path}': {why}") : new IOException($"cannot open '{path}': {why}");
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
