using Goq.Hosting;
using System.Globalization;
using System.Text;

namespace Goq.Worker;

/// <summary>
/// The jobs a worker has started, kept in <c>.goq/run/&lt;host&gt;.&lt;worker&gt;.ledger</c>. A job runs in a session
/// of its own, so it outlives a worker killed with -9; the server then runs it again elsewhere. A worker that starts on
/// the host, and every worker there with each heartbeat, reads the ledgers of workers that are gone and kills what
/// their jobs left running, so the abandoned copy does not go on beside the new one. Linux only.
/// <para>
/// The ledger is a log, appended with one write(2) per line, so each line is in the file (the page cache, which a
/// killed process cannot take back) before the next step: <c>S job attempt</c> before the job's process is spawned,
/// <c>E job</c> once it has ended. A job's processes are found by the variables every job gets
/// (<see cref="JobVariables"/>) in <c>/proc/&lt;pid&gt;/environ</c>, so one spawned a moment before the worker died is
/// found as surely as one running for hours, and a reused pid is never mistaken for a job.
/// </para>
/// </summary>
internal sealed class JobLedger : IDisposable
{
    /// <summary>Past this size the log is rewritten with only the jobs still running.</summary>
    private const long CompactBytes = 1024 * 1024;

    private static readonly string Host = Environment.MachineName;
    private readonly string _directory;
    private readonly string _workerId;
    private readonly Action<LogEntry> _log;
    private readonly string _path;
    private readonly Dictionary<long, int> _running = [];
    private FileStream? _file;
    private long _length; // what this process wrote, so no append costs an fstat

    public JobLedger(string directory, string workerId, Action<LogEntry> log)
    {
        _directory = directory;
        _workerId = workerId;
        _log = log;
        _path = Path.Combine(directory, $"{Host}.{workerId}.ledger");
    }

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>
    /// Kills what the jobs of workers on this host that died without cleaning up left running; returns how many
    /// processes. Run when a worker starts and with every heartbeat, so a dead neighbour's jobs end within a heartbeat
    /// while any worker runs here.
    /// </summary>
    public int SweepOrphans()
    {
        string[] files;
        try
        {
            files = Directory.Exists(_directory) ? Directory.GetFiles(_directory, $"{Host}.*.ledger") : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0; // the folder went away or cannot be read: nothing to sweep now; the next heartbeat tries again
        }

        var killed = 0;
        foreach (var file in files.Where(f => f != _path))
        {
            if (Read(file) is not { } ledger || LiveProcess.Is(ledger.WorkerPid, ledger.WorkerStart))
            {
                continue; // unreadable now, or that worker still runs
            }

            if (ledger.Jobs.Count > 0)
            {
                killed += KillJobsOf(ledger);
            }

            TryDelete(file);
        }

        return killed;
    }

    /// <summary>Records that a job is about to start. (Guarantee point: in the file before the job's first instruction.)</summary>
    public void Starting(long jobId, int attempt)
    {
        _running[jobId] = attempt;
        Append($"S {jobId} {attempt}\n");
    }

    /// <summary>Records that a job has ended (or never started).</summary>
    public void Ended(long jobId)
    {
        if (_running.Remove(jobId))
        {
            Append($"E {jobId}\n");
        }
    }

    /// <summary>A clean exit leaves nothing behind to sweep.</summary>
    public void Remove()
    {
        _file?.Dispose();
        _file = null;
        TryDelete(_path);
    }

    public void Dispose() => _file?.Dispose();

    /// <summary>
    /// Field 22 of /proc/&lt;pid&gt;/stat: when the process started, in clock ticks after boot; 0 if gone, or if it has
    /// died and only its zombie is left (killed, not yet reaped), so a dead process never passes for a live one.
    /// </summary>
    internal static long StartTicks(int pid)
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

    /// <summary>What a ledger says: its worker (id, pid and start time) and the jobs started and not ended, with their attempts.</summary>
    internal static LedgerContent? Read(string file)
    {
        try
        {
            int pid = 0;
            long start = 0;
            var worker = "";
            var jobs = new Dictionary<long, int>();
            foreach (var line in File.ReadLines(file))
            {
                var f = line.Split(' ');
                switch (f[0])
                {
                    case "W" when f.Length == 4:
                        pid = int.Parse(f[1], CultureInfo.InvariantCulture);
                        start = long.Parse(f[2], CultureInfo.InvariantCulture);
                        worker = f[3];
                        break;
                    case "S" when f.Length == 3 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var id) && int.TryParse(f[2], CultureInfo.InvariantCulture, out var attempt):
                        jobs[id] = attempt;
                        break;
                    case "E" when f.Length == 2 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var ended):
                        jobs.Remove(ended);
                        break;
                }
            }

            return pid > 0 && worker.Length > 0 ? new LedgerContent(worker, pid, start, jobs) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    private int KillJobsOf(LedgerContent ledger)
    {
        var killed = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            // Guarantee point: only a process whose environment names that worker and one of its unended jobs.
            if (JobProcesses.JobOf(pid, ledger.WorkerId) is { } job && ledger.Jobs.TryGetValue(job.JobId, out var attempt) && attempt == job.Attempt)
            {
                _ = LibC.kill(pid, LibC.SigKill);
                killed++;
                _log(LogEntry.Warning("job.orphan_killed", $"killed pid {pid} of job {job.JobId} (attempt {attempt}), left behind by worker pid {ledger.WorkerPid}", job: job.JobId));
            }
        }

        return killed;
    }

    private void Append(string line)
    {
        try
        {
            if (_file is null)
            {
                Directory.CreateDirectory(_directory);
                _file = Open(_path, FileMode.Append);
                _length = _file.Length;
                if (_length == 0)
                {
                    _length += Write(_file, Header());
                }
            }

            _length += Write(_file, line);
            if (_length > CompactBytes)
            {
                Compact();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log(LogEntry.Error("ledger.write_failed", $"cannot write the job ledger '{_path}': {ex.Message}"));
        }
    }

    /// <summary>Rewrites the log with only the running jobs; the rename makes the switch atomic for a reader.</summary>
    private void Compact()
    {
        var temp = _path + ".tmp";
        using (var fresh = Open(temp, FileMode.Create))
        {
            _length = Write(fresh, Header() + string.Concat(_running.Select(j => $"S {j.Key} {j.Value}\n")));
        }

        File.Move(temp, _path, overwrite: true);
        _file!.Dispose();
        _file = Open(_path, FileMode.Append);
    }

    private string Header() => $"W {Environment.ProcessId} {StartTicks(Environment.ProcessId)} {_workerId}\n";

    // Unbuffered: each Write is one write(2), so the line is in the file when it returns.
    private static FileStream Open(string path, FileMode mode) =>
        new(path, mode, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    private static int Write(FileStream file, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        file.Write(bytes);
        return bytes.Length;
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
