using System.Globalization;
using System.Text.Json;
using Goq.Protocol;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// A worker's job ledger as read back: the worker; its jobs started and not ended (job id to attempt), with the pid each
/// was spawned as where it is known; and the ends it recorded that the server has not acknowledged. The reading of the
/// ledger's records lives here, apart from their writing (see <see cref="JobLedger"/> for what each record means).
/// </summary>
internal sealed record LedgerContent(string WorkerId, int WorkerPid, long WorkerStart, Dictionary<long, int> Jobs,
    Dictionary<long, int>? Pids = null, IReadOnlyList<JobFinished>? Unreported = null)
{
    // The worker a ledger names on its first line (pid, start time), without reading the rest.
    public static (int Pid, long Start)? Header(string file)
    {
        try
        {
            using var reader = new StreamReader(file);
            var f = reader.ReadLine()?.Split(' ');
            return f is ["W", var pid, var start, _] && int.TryParse(pid, CultureInfo.InvariantCulture, out var p) && long.TryParse(start, CultureInfo.InvariantCulture, out var t)
                ? (p, t) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>What a ledger says: its worker (id, pid and start time) and the jobs started and not ended, with their attempts.</summary>
    public static LedgerContent? Read(string file)
    {
        try
        {
            int pid = 0;
            long start = 0;
            var worker = "";
            var jobs = new Dictionary<long, int>();
            var pids = new Dictionary<long, int>();
            var ends = new Dictionary<(long, int), JobFinished>();
            var exits = new Dictionary<(long, int), (int Code, long AtMs)>();
            foreach (var line in File.ReadLines(file))
            {
                var f = line.Split(' ');
                switch (f[0])
                {
                    case "P" when f.Length == 5 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var spawned) && int.TryParse(f[3], CultureInfo.InvariantCulture, out var jobPid):
                        pids[spawned] = jobPid;
                        break;
                    case "F" when f.Length == 4 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var finished) && int.TryParse(f[2], CultureInfo.InvariantCulture, out var finishedAttempt):
                        if (jobs.TryGetValue(finished, out var runningAttempt) && runningAttempt == finishedAttempt)
                        {
                            jobs.Remove(finished); // that attempt ended; a later one of the same job may run
                            pids.Remove(finished);
                        }

                        if (Decode(f[3]) is { } end)
                        {
                            ends[(finished, finishedAttempt)] = end;
                        }

                        break;
                    case "X" when f.Length == 5 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var exitedJob) && int.TryParse(f[2], CultureInfo.InvariantCulture, out var exitedAttempt)
                        && int.TryParse(f[3], CultureInfo.InvariantCulture, out var code) && long.TryParse(f[4], CultureInfo.InvariantCulture, out var atMs):
                        exits[(exitedJob, exitedAttempt)] = (code, atMs);
                        break;
                    case "A" when f.Length == 3 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var acked) && int.TryParse(f[2], CultureInfo.InvariantCulture, out var ackedAttempt):
                        ends.Remove((acked, ackedAttempt));
                        break;
                    case "W" when f.Length == 4:
                        pid = int.Parse(f[1], CultureInfo.InvariantCulture);
                        start = long.Parse(f[2], CultureInfo.InvariantCulture);
                        worker = f[3];
                        break;
                    case "S" when f.Length == 3 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var id) && int.TryParse(f[2], CultureInfo.InvariantCulture, out var attempt):
                        jobs[id] = attempt;
                        break;
                    case "E" when f.Length is 2 or 3 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var ended):
                        if (f.Length == 2 || (jobs.TryGetValue(ended, out var endedRunning) && f[2] == endedRunning.ToString(CultureInfo.InvariantCulture)))
                        {
                            jobs.Remove(ended);
                            pids.Remove(ended);
                        }

                        break;
                }
            }

            // A job whose main process ended (X) and whose end was never recorded: its end, as the exit code tells it.
            foreach (var (job, attempt) in jobs)
            {
                if (exits.TryGetValue((job, attempt), out var exit) && !ends.ContainsKey((job, attempt)))
                {
                    ends[(job, attempt)] = new JobFinished(worker, job, attempt, exit.Code == 0 ? JobState.Completed : JobState.Failed, exit.Code,
                        exit.Code == 0 ? null : $"exit code {exit.Code}", null, DateTimeOffset.FromUnixTimeMilliseconds(exit.AtMs), pids.TryGetValue(job, out var p) ? p : null);
                }
            }

            return pid > 0 && worker.Length > 0 ? new LedgerContent(worker, pid, start, jobs, pids, [.. ends.Values]) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    // A line cut short by a crash, or not ours, is no end.
    private static JobFinished? Decode(string base64)
    {
        try
        {
            return JsonSerializer.Deserialize(Convert.FromBase64String(base64), GoqJsonContext.Default.JobFinished);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }
}

