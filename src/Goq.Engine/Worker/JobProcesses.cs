using System.Globalization;
using System.Text;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// Finds a job's processes on this host by the identity every one of them inherits in its environment
/// (<see cref="JobVariables"/>: the worker's id, the job's id and attempt), wherever they moved: out of the job's
/// process group and session, or to another parent. Used at a job's cancel, time-out or left-open output
/// (<see cref="KillJob"/>), with each heartbeat for what ended jobs left behind (<see cref="KillLeftovers"/>), and by
/// the ledger for the jobs of a worker that died (<see cref="JobLedger"/>). Linux only.
/// </summary>
internal static class JobProcesses
{
    /// <summary>
    /// Kills every process of this host that carries the job's identity in its environment (its worker, id and
    /// attempt), wherever it moved: out of the job's process group and session (setsid, a daemon's double fork), or
    /// to another parent. Returns how many. (The job's environment is set at its spawn and inherited, so a process
    /// without it is never taken; one that rewrote its own environment is the only one missed.) Only processes started
    /// after <paramref name="firstPid"/> (the job's own) can be the job's: pids are handed out in rising order, so the
    /// others are not read, unless the kernel's pids wrapped around since (its last pid is then below the job's).
    /// </summary>
    internal static int KillJob(string workerId, long jobId, int attempt, int firstPid = 0)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        var from = LastPid() is { } last && last >= firstPid ? firstPid : 0;
        // The three entries as they appear in /proc/<pid>/environ, each ended by a NUL: matched as bytes, so the
        // processes read (a few, after the pid filter) cost a read each, not a decoding.
        byte[][] marks =
        [
            Encoding.UTF8.GetBytes($"\0{JobVariables.JobId}={jobId.ToString(CultureInfo.InvariantCulture)}\0"),
            Encoding.UTF8.GetBytes($"\0{JobVariables.Attempt}={attempt.ToString(CultureInfo.InvariantCulture)}\0"),
            Encoding.UTF8.GetBytes($"\0{JobVariables.WorkerId}={workerId}\0"),
        ];
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        var killed = 0;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && pid >= from && pid != Environment.ProcessId && Carries(pid, marks, buffer))
                {
                    _ = LibC.kill(pid, LibC.SigKill);
                    killed++;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return killed;
    }

    /// <summary>
    /// Kills the processes of this host that carry this worker's id and name a job (and attempt) it no longer runs
    /// (<paramref name="running"/> says which it runs): what ended jobs left behind out of their process groups, a
    /// daemon's double fork with its output closed. Run with each heartbeat. Returns how many.
    /// </summary>
    internal static int KillLeftovers(string workerId, Func<long, int, bool> running)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        var killed = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            // Guarantee point: a job that runs is never touched; a process is taken only by its job's identity.
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != Environment.ProcessId
                && JobOf(pid, workerId) is { } job && !running(job.JobId, job.Attempt))
            {
                _ = LibC.kill(pid, LibC.SigKill);
                killed++;
            }
        }

        return killed;
    }

    /// <summary>Whether <paramref name="pid"/>'s environment holds every one of <paramref name="marks"/>.</summary>
    private static bool Carries(int pid, byte[][] marks, byte[] buffer)
    {
        int length;
        try
        {
            using var file = File.OpenHandle($"/proc/{pid}/environ");
            buffer[0] = 0; // so the first entry, too, is preceded by a NUL
            length = 1;
            int read;
            while (length < buffer.Length && (read = RandomAccess.Read(file, buffer.AsSpan(length), length - 1)) > 0)
            {
                length += read;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        ReadOnlySpan<byte> environ = buffer.AsSpan(0, length);
        if (length == buffer.Length)
        {
            try
            {
                environ = new byte[] { 0 }.Concat(File.ReadAllBytes($"/proc/{pid}/environ")).ToArray(); // larger than the buffer: read whole
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        foreach (var mark in marks)
        {
            if (environ.IndexOf(mark) < 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The pid the kernel handed out last (the last field of /proc/loadavg), or null.</summary>
    private static int? LastPid()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length >= 5 && int.TryParse(fields[4], CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static (long JobId, int Attempt)? JobOf(int pid, string workerId)
    {
        byte[] environ;
        try
        {
            environ = File.ReadAllBytes($"/proc/{pid}/environ");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        long? job = null;
        int? attempt = null;
        var worker = false;
        foreach (var entry in Encoding.UTF8.GetString(environ).Split('\0'))
        {
            if (entry.StartsWith(JobVariables.JobId + "=", StringComparison.Ordinal) && long.TryParse(entry.AsSpan(JobVariables.JobId.Length + 1), CultureInfo.InvariantCulture, out var id))
            {
                job = id;
            }
            else if (entry.StartsWith(JobVariables.Attempt + "=", StringComparison.Ordinal) && int.TryParse(entry.AsSpan(JobVariables.Attempt.Length + 1), CultureInfo.InvariantCulture, out var a))
            {
                attempt = a;
            }
            else if (entry == $"{JobVariables.WorkerId}={workerId}")
            {
                worker = true;
            }
        }

        return worker && job is { } j && attempt is { } n ? (j, n) : null;
    }
}
