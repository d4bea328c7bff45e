namespace Goq.Platform;

/// <summary>
/// The one answer to "is the process a pid file names still that very process": a pid counts only while a process with
/// that pid runs here and started when the file says (so a pid reused by another process, a zombie, or a process of a
/// server killed -9 never passes for the live one). Used for the server's pid file (Start-GoqServer, Stop-GoqServer
/// -Force), a worker's job ledger and a job keeper's and relay's run files under <c>.goq/run</c>.
/// </summary>
public static class LiveProcess
{
    /// <summary>When <paramref name="pid"/> started (clock ticks after boot), or 0 when it is gone or a zombie.</summary>
    public static long StartTicks(int pid) => pid > 0 ? ReadStartTicks(pid) : 0;

    /// <summary>
    /// Field 22 of /proc/&lt;pid&gt;/stat: when the process started, in clock ticks after boot; 0 if gone, or if it has
    /// died and only its zombie is left (killed, not yet reaped), so a dead process never passes for a live one.
    /// </summary>
    private static long ReadStartTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields[0] is "Z" or "X")
            {
                return 0; // field 3, the state: a zombie or a dead process
            }

            return long.TryParse(fields[19], out var ticks) ? ticks : 0; // field 22 counted from after "pid (comm)"
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return 0;
        }
    }

    /// <summary>True when <paramref name="pid"/> runs on this host and started at <paramref name="start"/> (as recorded).</summary>
    public static bool Is(int pid, long start) => start > 0 && StartTicks(pid) == start;
}
