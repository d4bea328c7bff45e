using System.Runtime.InteropServices;
using Goq.Platform;
using Goq.Diagnostics;

namespace Goq.Storage;

/// <summary>
/// Puts a folder's entries on disk (fsync of the folder itself), so a file created in it survives a power cut once its
/// data is synced too: POSIX does not promise that syncing a file also stores its name. Linux only; elsewhere the file
/// system's own metadata journal is relied on.
/// </summary>
internal static unsafe class DurableFolder
{
    /// <summary>True when the folder was synced (false elsewhere than Linux, or when it failed: logged).</summary>
    public static bool Sync(string path, Action<LogEntry> log)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var utf8 = Marshal.StringToCoTaskMemUTF8(path);
        try
        {
            // A folder only (a FIFO or a file put in its place fails at once, and is never waited on).
            var fd = LibC.open((byte*)utf8, LibC.ORdonly | 0x10000 /* O_DIRECTORY */ | 0x800 /* O_NONBLOCK */ | LibC.OCloexec, 0);
            if (fd < 0)
            {
                log(LogEntry.Error("folder.sync_failed", $"cannot open the folder '{path}' to sync it: {LibC.ErrorText(Marshal.GetLastPInvokeError())}"));
                return false;
            }

            var ok = LibC.fsync(fd) == 0;
            if (!ok)
            {
                log(LogEntry.Error("folder.sync_failed", $"cannot sync the folder '{path}': {LibC.ErrorText(Marshal.GetLastPInvokeError())}"));
            }

            LibC.close(fd);
            return ok;
        }
        finally
        {
            Marshal.FreeCoTaskMem(utf8);
        }
    }
}
