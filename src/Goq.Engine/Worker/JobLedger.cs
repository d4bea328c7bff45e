using Goq.Protocol;
using System.Text;
using System.Text.Json;
using Goq.Platform;
using Goq.Diagnostics;

namespace Goq.Worker;

/// <summary>
/// The jobs a worker has started, kept in <c>.goq/run/&lt;host&gt;.&lt;worker&gt;.ledger</c>. A job runs in a session
/// of its own, so it outlives a worker killed with -9; the server then runs it again elsewhere. A worker that starts on
/// the host, and every worker there with each heartbeat, reads the ledgers of workers that are gone and kills what
/// their jobs left running, so the abandoned copy does not go on beside the new one. Linux only.
/// <para>
/// The ledger is a log, appended with one write(2) per line, so each line is in the file (the page cache, which a
/// killed process cannot take back) before the next step: <c>S job attempt</c> before the job's process is spawned,
/// <c>P job attempt pid start</c> once it runs (its process group and the group leader's start time, for the
/// <see cref="KeeperSentinel"/>), and when it ends either <c>F job attempt report</c>, the end the server is told of
/// (state, exit code, times, usage, last lines: base64 JSON), written before it is sent, or <c>E job attempt</c> for an
/// end that is not reported. <c>A job attempt</c> follows once the server acknowledged the end. Every record names its
/// attempt: the end of one attempt never hides the next one running. A worker that exits with ends the server has not
/// acknowledged leaves them in its ledger, for the next worker on the host to report. A worker that finds the ledger of a dead one on its host reports that worker's
/// unacknowledged ends for it (<see cref="SweepOrphans"/>): a job that finished just before its keeper was killed is
/// not run again. A job's processes are found by the variables every job gets (<see cref="JobVariables"/>) in
/// <c>/proc/&lt;pid&gt;/environ</c>, so one spawned a moment before the worker died is found as surely as one running
/// for hours, and a reused pid is never mistaken for a job.
/// </para>
/// Thread-safe: jobs are spawned, and end, on more than one thread.
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
    private readonly Lock _lock = new();
    private readonly Dictionary<long, int> _running = [];
    private readonly Dictionary<long, string> _pids = []; // their P lines
    private readonly Dictionary<long, string> _exits = []; // their X lines: exited, end not yet recorded
    private readonly Dictionary<(long JobId, int Attempt), string> _unreported = []; // their F lines
    private FileStream? _file;
    private long _length; // what this process wrote, so no append costs an fstat
    private long _compactAt = CompactBytes; // twice what the last compaction kept, at least CompactBytes

    public JobLedger(string directory, string workerId, Action<LogEntry> log)
    {
        _directory = directory;
        _workerId = workerId;
        _log = log;
        _path = Path.Combine(directory, $"{Host}.{workerId}.ledger");
    }

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>This worker's ledger file.</summary>
    public string FilePath => _path;

    /// <summary>
    /// Kills what the jobs of workers on this host that died without cleaning up left running, and takes over the ends
    /// they recorded that the server has not acknowledged: returned (with the dead worker's id, which holds their lease)
    /// for this worker to report, and kept in this ledger until they are acknowledged. Run when a worker starts and with
    /// every heartbeat, so a dead neighbour's jobs end within a heartbeat while any worker runs here.
    /// </summary>
    public IReadOnlyList<JobFinished> SweepOrphans()
    {
        string[] files;
        try
        {
            files = Directory.Exists(_directory) ? Directory.GetFiles(_directory, $"{Host}.*.ledger") : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return []; // the folder went away or cannot be read: nothing to sweep now; the next heartbeat tries again
        }

        var adopted = new List<JobFinished>();
        foreach (var file in files.Where(f => f != _path))
        {
            // The first line says whose it is: a live worker's ledger is not read further.
            if (LedgerContent.Header(file) is not var (pid, start) || LiveProcess.Is(pid, start) || LedgerContent.Read(file) is not { } ledger)
            {
                continue; // unreadable now, or that worker still runs
            }

            if (ledger.Jobs.Count > 0)
            {
                KillJobsOf(ledger);
            }

            // Guarantee point: in this ledger before the dead one goes, so a crash here loses none of them.
            foreach (var end in ledger.Unreported ?? [])
            {
                Record(end, adopted: true);
                adopted.Add(end);
                _log(LogEntry.Warning("job.end_adopted", $"job {end.JobId} (attempt {end.Attempt}) ended ({end.State}) under worker {end.WorkerId}, "
                    + $"which died (pid {ledger.WorkerPid}) before the server took its end: reporting it for that worker", job: end.JobId, worker: end.WorkerId));
            }

            if (!TryDelete(file))
            {
                // Left where it is, it would be taken over again at every sweep: what was taken is in our ledger.
                _log(LogEntry.Warning("ledger.not_removed", $"cannot remove the ledger '{file}' of a dead worker after taking over its ends"));
            }
        }

        return adopted;
    }

    /// <summary>Records that a job is about to start. (Guarantee point: in the file before the job's first instruction.)</summary>
    public void Starting(long jobId, int attempt)
    {
        lock (_lock)
        {
            _running[jobId] = attempt;
            Append($"S {jobId} {attempt}\n");
        }
    }

    /// <summary>Records the pid a job's process runs as (the leader of its process group), with its start time.</summary>
    public void Spawned(long jobId, int pid)
    {
        var start = LiveProcess.StartTicks(pid); // read before the lock: /proc, not our state
        lock (_lock)
        {
            if (_running.TryGetValue(jobId, out var attempt) && start > 0)
            {
                var line = $"P {jobId} {attempt} {pid} {start}\n";
                _pids[jobId] = line;
                Append(line);
            }
        }
    }

    /// <summary>
    /// Records a job's exit code the moment its main process ended (<c>X job attempt code time</c>), before its output is
    /// drained and its end recorded: a keeper killed in between loses neither, and the next worker reports the end from
    /// this line (without the tail of its output) rather than let the job run again.
    /// </summary>
    public void Exited(long jobId, int attempt, int exitCode)
    {
        lock (_lock)
        {
            if (_running.TryGetValue(jobId, out var running) && running == attempt && !_exits.ContainsKey(jobId))
            {
                var line = $"X {jobId} {attempt} {exitCode} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\n";
                _exits[jobId] = line;
                Append(line);
            }
        }
    }

    /// <summary>
    /// Records that a job has ended: with <paramref name="end"/>, the end to report (in the file before it is sent, and
    /// kept until <see cref="Acknowledged"/>); without, an end nobody is told of.
    /// </summary>
    public void Ended(long jobId, JobFinished? end = null)
    {
        lock (_lock)
        {
            var running = _running.Remove(jobId, out var attempt);
            _pids.Remove(jobId);
            _exits.Remove(jobId);
            if (end is not null)
            {
                Record(end, adopted: false);
            }
            else if (running)
            {
                Append($"E {jobId} {attempt}\n");
            }
        }
    }

    /// <summary>The server has the end of this attempt: it need not be reported again.</summary>
    public void Acknowledged(long jobId, int attempt)
    {
        lock (_lock)
        {
            if (_unreported.Remove((jobId, attempt)))
            {
                Append($"A {jobId} {attempt}\n");
            }
        }
    }

    /// <summary>
    /// A clean exit leaves nothing behind to sweep, except the ends the server has not acknowledged: those stay (alone)
    /// for the next worker on the host to report.
    /// </summary>
    public void Remove()
    {
        lock (_lock)
        {
            if (_unreported.Count > 0 && _file is not null)
            {
                _running.Clear();
                _pids.Clear();
                _exits.Clear();
                try
                {
                    Compact();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _log(LogEntry.Error("ledger.write_failed", $"cannot keep the unacknowledged ends in '{_path}': {ex.Message}"));
                }

                _log(LogEntry.Warning("ledger.ends_left", $"{_unreported.Count} job ends the server has not acknowledged are left in '{_path}' for the next worker on this host to report"));
                _file?.Dispose();
                _file = null;
                return;
            }

            _file?.Dispose();
            _file = null;
            TryDelete(_path);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file?.Dispose();
        }
    }

    private void Record(JobFinished end, bool adopted)
    {
        lock (_lock)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(end, GoqJsonContext.Default.JobFinished);
            var line = $"F {end.JobId} {end.Attempt} {Convert.ToBase64String(json)}\n";
            _unreported[(end.JobId, end.Attempt)] = line;
            if (!adopted && _running.TryGetValue(end.JobId, out var attempt) && attempt == end.Attempt)
            {
                _running.Remove(end.JobId);
                _pids.Remove(end.JobId);
                _exits.Remove(end.JobId);
            }

            Append(line);
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
            if (_length > _compactAt)
            {
                Compact();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
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
            // Ends first: an earlier attempt's end, read after a later attempt's start, must not hide it.
            _length = Write(fresh, Header() + string.Concat(_unreported.Values) + string.Concat(_running.Select(j => $"S {j.Key} {j.Value}\n"))
                + string.Concat(_pids.Values) + string.Concat(_exits.Values));
        }

        File.Move(temp, _path, overwrite: true);
        _compactAt = Math.Max(CompactBytes, 2 * _length); // a large unacknowledged end is not rewritten at every append
        _file!.Dispose();
        _file = null; // reopened at the next append if this fails
        _file = Open(_path, FileMode.Append);
    }

    private string Header() => $"W {Environment.ProcessId} {LiveProcess.StartTicks(Environment.ProcessId)} {_workerId}\n";

    // Unbuffered: each Write is one write(2), so the line is in the file when it returns.
    private static FileStream Open(string path, FileMode mode) =>
        new(path, mode, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    private static int Write(FileStream file, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        file.Write(bytes);
        return bytes.Length;
    }

    private static bool TryDelete(string file)
    {
        try
        {
            File.Delete(file);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
