using System.Text.Json;
using Goq.Protocol;

namespace Goq.Worker;

/// <summary>
/// The process groups a worker's jobs run in, kept in <c>.goq/run/&lt;host&gt;.&lt;worker&gt;.json</c>. A job runs in a
/// session of its own, so it outlives a worker killed with -9; the server then runs it again elsewhere. A worker that
/// starts on the host, and every worker there with each heartbeat, reads the ledgers of workers that are gone and kills
/// their jobs' groups, so the abandoned copy does not go on beside the new one. Process start times guard against
/// reused pids. Linux only.
/// </summary>
internal sealed class JobLedger(string directory, string workerId, Action<string> log)
{
    private static readonly string Host = Environment.MachineName;
    private readonly string _path = Path.Combine(directory, $"{Host}.{workerId}.json");
    private readonly Dictionary<(long JobId, int Pid), long> _starts = [];
    private long _ownStart;
    private string _written = "";

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>
    /// Kills the jobs of workers on this host that died without cleaning up; returns how many groups. Run when a worker
    /// starts and with every heartbeat, so a dead neighbour's jobs end within a heartbeat while any worker runs here.
    /// </summary>
    public int SweepOrphans()
    {
        var killed = 0;
        string[] files;
        try
        {
            files = Directory.Exists(directory) ? Directory.GetFiles(directory, $"{Host}.*.json") : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0; // the folder went away or cannot be read: nothing to sweep now; the next heartbeat tries again
        }

        foreach (var file in files)
        {
            if (file == _path || Read(file) is not { } ledger)
            {
                continue;
            }

            if (StartTicks(ledger.WorkerPid) == ledger.WorkerStart)
            {
                continue; // that worker still runs
            }

            foreach (var job in ledger.Jobs.Where(j => StartTicks(j.Pid) == j.Start))
            {
                // Guarantee point: only a group whose leader is the very process the dead worker started.
                _ = LibC.kill(-job.Pid, LibC.SigKill);
                killed++;
                log($"killed the process group of job {job.JobId} (pid {job.Pid}), left behind by worker pid {ledger.WorkerPid}");
            }

            TryDelete(file);
        }

        return killed;
    }

    /// <summary>Records the jobs now running (pid and job id); writes only when that changed.</summary>
    public void Record(IEnumerable<(long JobId, int Pid)> jobs)
    {
        // A job's process start time never changes: read once per job (this runs every output flush, for every running
        // job), keyed by job and pid so a pid reused by a later job is read afresh.
        var running = jobs.ToHashSet();
        foreach (var gone in _starts.Keys.Where(key => !running.Contains(key)).ToList())
        {
            _starts.Remove(gone);
        }

        var entries = running.Select(j => new JobLedgerEntry(j.JobId, j.Pid, CachedStartTicks(j))).Where(e => e.Start > 0).ToList();
        if (_ownStart == 0)
        {
            _ownStart = StartTicks(Environment.ProcessId);
        }

        var json = JsonSerializer.Serialize(new JobLedgerFile(Environment.ProcessId, _ownStart, entries), GoqJsonContext.Default.JobLedgerFile);
        if (json == _written)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(directory);
            var temp = _path + ".tmp";
            File.WriteAllText(temp, json);
            File.Move(temp, _path, overwrite: true);
            _written = json;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log($"cannot write the job ledger '{_path}': {ex.Message}");
        }
    }

    private long CachedStartTicks((long JobId, int Pid) job)
    {
        if (!_starts.TryGetValue(job, out var ticks) || ticks == 0)
        {
            _starts[job] = ticks = StartTicks(job.Pid);
        }

        return ticks;
    }

    /// <summary>A clean exit leaves nothing behind to sweep.</summary>
    public void Remove() => TryDelete(_path);

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat: when the process started, in clock ticks after boot; 0 if gone.</summary>
    internal static long StartTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.TryParse(fields[19], out var ticks) ? ticks : 0; // field 22 counted from after "pid (comm)"
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return 0;
        }
    }

    private static JobLedgerFile? Read(string file)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(file), GoqJsonContext.Default.JobLedgerFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
