using System.Globalization;

namespace Goq.Worker;

/// <summary>
/// What a warm runner used while it ran one job: its CPU time (from /proc/&lt;pid&gt;/stat, before and after) and its
/// peak resident memory over the job (the peak is reset through /proc/&lt;pid&gt;/clear_refs when the job starts). A runner
/// runs one job at a time, so the CPU is the job's; the peak includes the runner's own footprint. Linux only; elsewhere
/// nothing is measured.
/// </summary>
internal sealed class RunnerUsage
{
    // USER_HZ: the unit of /proc times, 100 on every Linux ABI.
    private const long TicksPerSecond = 100;
    private readonly int _pid;
    private readonly (long User, long System)? _before;

    private RunnerUsage(int pid)
    {
        _pid = pid;
        _before = Cpu(pid);
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5"); // 5: reset the peak resident set size
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The peak then covers the runner's life so far: still an upper bound.
        }
    }

    public static RunnerUsage? Start(int pid) => OperatingSystem.IsLinux() ? new RunnerUsage(pid) : null;

    /// <summary>What the job used, or null when /proc could not tell.</summary>
    public Protocol.JobUsage? Stop()
    {
        if (_before is not { } before || Cpu(_pid) is not { } after)
        {
            return null;
        }

        const long microsPerTick = 1_000_000 / TicksPerSecond;
        return new Protocol.JobUsage((after.User - before.User) * microsPerTick, (after.System - before.System) * microsPerTick, PeakBytes(_pid));
    }

    private static (long User, long System)? Cpu(int pid)
    {
        try
        {
            // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture), long.Parse(fields[12], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? PeakBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
