using Goq.Platform;

namespace Goq.Configuration;

/// <summary>
/// What a home records of its server (its lock and its pid file), read by whoever must know whether one runs: the
/// server starting, Initialize-GoqHome refusing new keys under a running one, Stop-GoqServer.
/// </summary>
public static class ServerRecord
{
    /// <summary>
    /// The pid of the server running on this home (0 when one holds the lock but its pid is not known yet), or null when
    /// none runs. The lock says so; a pid file counts only for the live process it names (<see cref="RecordedLiveServer"/>),
    /// never for a server killed -9, whose file stays.
    /// </summary>
    public static int? RunningPid(GoqSettings settings)
    {
        if (!File.Exists(settings.LockPath))
        {
            return null; // never started here (or not even a home yet)
        }

        try
        {
            // Opened for reading only: a home that cannot be written (a read-only mount, immutable files) still shows
            // whether a live server holds the lock.
            using var probe = new FileStream(settings.LockPath, FileMode.Open, FileAccess.Read, FileShare.None);
            return null;
        }
        catch (IOException)
        {
            return RecordedLiveServer(settings) ?? 0; // held: a server runs (its pid file may not be written yet)
        }
        catch (UnauthorizedAccessException)
        {
            return RecordedLiveServer(settings); // the lock cannot be read: only a live recorded server counts
        }
    }

    /// <summary>
    /// The server process recorded for this home on this host, when it still runs and is that very process (its start
    /// time matches the one recorded); null otherwise.
    /// </summary>
    public static int? RecordedLiveServer(GoqSettings settings)
    {
        try
        {
            var lines = File.ReadAllLines(settings.PidPath);
            return lines.Length >= 3 && int.TryParse(lines[0], out var pid) && long.TryParse(lines[2], out var start)
                && LiveProcess.Is(pid, start)
                ? pid
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
