using Goq.Timing;
using System.Globalization;
using Goq.Configuration;
using Goq.Errors;
using Goq.Worker;
using Goq.Platform;

namespace Goq.Hosting;

/// <summary>
/// The workers of a home on this host, as its run folder knows them, with or without a server: each worker process
/// (the one the server sees: a relay, or a worker that runs its jobs itself) keeps <c>.goq/run/&lt;host&gt;.&lt;worker&gt;.worker</c>
/// while it runs, and a job keeper its <c>.keeper</c> file. A file counts only for a live process that is that very
/// process (its start time, field 22 of /proc/&lt;pid&gt;/stat, matches the one recorded), never for a reused pid, and
/// only this home's folder is read, so another home's workers are never touched. Linux only (the job keeper's platform).
/// </summary>
public static class LocalWorkers
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    /// <summary>Records this process as worker <paramref name="workerId"/> of the home until the result is disposed.</summary>
    public static IDisposable Register(GoqSettings settings, string workerId, WorkerCapacity capacity, bool oneShot)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new Registration(null);
        }

        var path = PathOf(settings, workerId);
        var temp = path + ".tmp";
        var text = string.Create(CultureInfo.InvariantCulture,
            $"pid {Environment.ProcessId}\nstart {LiveProcess.StartTicks(Environment.ProcessId)}\nslots {capacity.Slots}\n" +
            $"queues {string.Join(",", QueuesOf(capacity.Queues))}\nlabels {string.Join(",", LabelsOf(capacity.Labels))}\noneshot {(oneShot ? 1 : 0)}\n");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(temp, text);
            GoqHomeInitializer.RestrictFile(temp);
            File.Move(temp, path, overwrite: true);
            return new Registration(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new Registration(null); // the worker runs all the same; only Stop-GoqWorker -Local will not see it
        }
    }

    /// <summary>The live workers of the home on this host (their files of dead processes are removed).</summary>
    public static IReadOnlyList<LocalWorker> Running(GoqSettings settings)
    {
        var found = new List<LocalWorker>();
        foreach (var file in Files(settings, "worker"))
        {
            if (Read(file) is not { } worker)
            {
                continue;
            }

            if (LiveProcess.Is(worker.Pid, worker.Start))
            {
                found.Add(worker);
            }
            else
            {
                TryDelete(file); // its process died without cleaning up (kill -9)
            }
        }

        return found;
    }

    /// <summary>
    /// Refuses a second worker on this host and home that serves the same queues with the same labels (as sets): it
    /// would only add slots to the first, which -Slots does. A one-shot worker is neither refused nor counted, and
    /// neither is a start that takes back the jobs of a job keeper whose worker process was killed (it adds none).
    /// </summary>
    public static void EnsureNoTwin(GoqSettings settings, WorkerCapacity capacity)
    {
        var queues = QueuesOf(capacity.Queues);
        var labels = LabelsOf(capacity.Labels);
        var running = Running(settings);
        if (LiveKeepers(settings).Any(k => running.All(w => w.WorkerId != k.WorkerId)))
        {
            return; // this start adopts that keeper (WorkerRelay.Adopt): a worker restarted, not a second one
        }

        if (running.FirstOrDefault(w => !w.OneShot && w.Queues.SequenceEqual(queues) && w.Labels.SequenceEqual(labels)) is not { } twin)
        {
            return;
        }

        var serving = $"queue{(queues.Count > 1 ? "s" : "")} {string.Join(", ", queues)}{(labels.Count > 0 ? $" with label{(labels.Count > 1 ? "s" : "")} {string.Join(", ", labels)}" : "")}";
        throw new GoqException(GoqErrorIds.WorkerAlreadyRunning, GoqErrorKind.AlreadyExists,
            $"worker {twin.WorkerId} (pid {twin.Pid}, {twin.Slots} slot{(twin.Slots == 1 ? "" : "s")}) already serves {serving} on this host for home '{settings.Home}'; " +
            "a second one only adds slots: give one worker more -Slots, or pass -Force to start another")
        { Target = twin.WorkerId };
    }

    /// <summary>
    /// Stops the home's workers on this host without a server: each worker process is sent SIGTERM when
    /// <paramref name="drain"/> (it and its keeper finish their running jobs and leave) or SIGINT (as Ctrl+C: the
    /// running jobs are killed, and the server queues them again), and so is a job keeper whose worker process is gone.
    /// Returns the workers stopped once every one of their processes (worker and keeper) has exited; a negative
    /// <paramref name="timeout"/> waits as long as it takes.
    /// </summary>
    public static async Task<IReadOnlyList<WorkerInfo>> StopAsync(GoqSettings settings, bool drain, TimeSpan timeout, CancellationToken cancel)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new GoqException(GoqErrorIds.WorkerNotFound, GoqErrorKind.InvalidOperation, "stopping local workers without a server (-Local) needs Linux");
        }

        var signal = drain ? SigTerm : SigInt;
        var workers = Running(settings);
        var keepers = LiveKeepers(settings);
        var stopped = new List<WorkerInfo>();
        var waitFor = new List<(int Pid, long Start)>();
        foreach (var worker in workers)
        {
            if (Signal(worker.Pid, worker.Start, signal))
            {
                stopped.Add(Info(worker.WorkerId, worker.Pid, worker.Slots, worker.Queues, worker.Labels));
                waitFor.Add((worker.Pid, worker.Start));
            }
        }

        foreach (var keeper in keepers)
        {
            // A keeper whose worker process is gone (killed) has nobody to tell it: it is told directly.
            if (workers.All(w => w.WorkerId != keeper.WorkerId) && Signal(keeper.Pid, keeper.Start, signal))
            {
                stopped.Add(Info(keeper.WorkerId, keeper.Pid, keeper.Slots, [], []));
            }

            waitFor.Add((keeper.Pid, keeper.Start));
        }

        var deadline = Deadline.In(timeout);
        while (waitFor.Where(p => LiveProcess.Is(p.Pid, p.Start)).Select(p => p.Pid).ToList() is { Count: > 0 } left)
        {
            if (deadline.Passed)
            {
                throw new GoqException(GoqErrorIds.ServerError, GoqErrorKind.Timeout,
                    $"worker process{(left.Count > 1 ? "es" : "")} {string.Join(", ", left)} did not exit within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(50, cancel).ConfigureAwait(false);
        }

        return stopped;
    }

    /// <summary>How many jobs a local worker runs, from its job ledger (0 when it has started none).</summary>
    public static int RunningJobs(GoqSettings settings, string workerId) =>
        LedgerContent.Read(Path.Combine(settings.DotDir, "run", $"{Environment.MachineName}.{workerId}.ledger"))?.Jobs.Count ?? 0;

    private static WorkerInfo Info(string id, int pid, int slots, IReadOnlyList<string> queues, IReadOnlyList<string> labels) => new()
    {
        Id = id,
        Host = Environment.MachineName,
        Pid = pid,
        Slots = slots,
        Queues = queues.Count > 0 ? [.. queues] : [JobSpec.DefaultQueue],
        Labels = [.. labels],
    };

    // Checked again just before the signal, so a process that exited since it was read is never mistaken for another.
    private static bool Signal(int pid, long start, int signal) =>
        LiveProcess.Is(pid, start) && LibC.kill(pid, signal) == 0;

    private static List<KeeperInfo> LiveKeepers(GoqSettings settings)
    {
        var keepers = new List<KeeperInfo>();
        foreach (var file in Files(settings, "keeper"))
        {
            try
            {
                if (System.Text.Json.JsonSerializer.Deserialize(File.ReadAllBytes(file), Worker.WorkerJsonContext.Default.KeeperInfo) is { } info
                    && LiveProcess.Is(info.Pid, info.Start))
                {
                    keepers.Add(info);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                // gone or half-written: not a keeper to stop
            }
        }

        return keepers;
    }

    private static string PathOf(GoqSettings settings, string workerId) =>
        Path.Combine(settings.DotDir, "run", $"{Environment.MachineName}.{workerId}.worker");

    private static string[] Files(GoqSettings settings, string kind)
    {
        var dir = Path.Combine(settings.DotDir, "run");
        try
        {
            return Directory.Exists(dir) ? Directory.GetFiles(dir, $"{Environment.MachineName}.*.{kind}") : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static LocalWorker? Read(string file)
    {
        try
        {
            var fields = File.ReadAllLines(file).Select(l => l.Split(' ', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            var name = Path.GetFileName(file);
            var id = name[(Environment.MachineName.Length + 1)..^".worker".Length];
            return new LocalWorker(id,
                int.Parse(fields["pid"], CultureInfo.InvariantCulture),
                long.Parse(fields["start"], CultureInfo.InvariantCulture),
                int.Parse(fields["slots"], CultureInfo.InvariantCulture),
                fields["queues"].Split(',', StringSplitOptions.RemoveEmptyEntries),
                fields["labels"].Split(',', StringSplitOptions.RemoveEmptyEntries),
                fields.GetValueOrDefault("oneshot") == "1");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static List<string> QueuesOf(IReadOnlyList<string>? queues) =>
        queues is { Count: > 0 } ? queues.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList() : [JobSpec.DefaultQueue];

    private static List<string> LabelsOf(IReadOnlyList<string>? labels) =>
        (labels ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private sealed class Registration(string? path) : IDisposable
    {
        public void Dispose()
        {
            if (path is not null)
            {
                TryDelete(path);
            }
        }
    }
}

/// <summary>A worker of the home running on this host, as its run-folder file records it (queues and labels sorted).</summary>
public sealed record LocalWorker(string WorkerId, int Pid, long Start, int Slots, IReadOnlyList<string> Queues, IReadOnlyList<string> Labels, bool OneShot);
