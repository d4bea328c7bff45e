using System.Diagnostics;
using System.Text;

namespace Goq.Worker;

/// <summary>
/// Runs one job as a process: in its own process group, stdin closed, stdout and stderr read line by line and
/// handed on in the order they were read. Every outcome (including a missing program, a bad directory or a
/// crash) becomes a <see cref="JobOutcome"/>; nothing a job does can throw out of here.
/// </summary>
public sealed class JobRunner(JobRunnerOptions options) : IDisposable
{
    private static readonly string[] SignalNames =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    ];

    // The worker's own environment, read once: jobs start from it (JobEnvironment says what overrides it).
    private readonly Dictionary<string, string?> _workerEnvironment = System.Environment.GetEnvironmentVariables()
        .Cast<System.Collections.DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => e.Value as string, StringComparer.Ordinal);

    private ScriptRunnerPool? _scripts;

    // After the kill, how long the pipes may still take to reach end of file before they are no longer read.
    private static readonly TimeSpan AfterKillDrain = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Kills what is left of the job: its process group, and, with <paramref name="sweep"/>, whatever carries its
    /// identity (see JobProcesses.KillJob). Without it (a job that ended on its own with its output closed), a process
    /// that left the group is found by the worker's sweep at its next heartbeat (JobProcesses.KillLeftovers): one pass
    /// over the host's processes a heartbeat rather than one a job, which cost short jobs about 15% of their rate.
    /// </summary>
    private static void EndEveryProcess(IJobProcess process, IReadOnlyDictionary<string, string>? variables, bool sweep)
    {
        process.KillTree();
        if (sweep && variables is not null && variables.TryGetValue(JobVariables.WorkerId, out var worker)
            && variables.TryGetValue(JobVariables.JobId, out var id) && long.TryParse(id, System.Globalization.CultureInfo.InvariantCulture, out var jobId)
            && variables.TryGetValue(JobVariables.Attempt, out var attempt) && int.TryParse(attempt, System.Globalization.CultureInfo.InvariantCulture, out var attemptNumber))
        {
            JobProcesses.KillJob(worker, jobId, attemptNumber, process.Pid);
        }
    }

    /// <param name="spec">What to run.</param>
    /// <param name="onStarted">Called with the pid and start time once the process runs.</param>
    /// <param name="onLine">Called for each line, never concurrently, in the order lines were read.</param>
    /// <param name="cancel">Cancelling kills the job's whole process tree; the outcome is then Cancelled.</param>
    /// <param name="variables">Goq's own variables for the job (<see cref="JobVariables"/>), set last.</param>
    /// <param name="holdOutput">While true, the job's output is not read, so its writes wait (back-pressure).</param>
    /// <param name="whyCancelled">Asked once the job was cancelled: what happened, for the line written into its output
    /// (null, or no function: "the job was cancelled", a user's Stop-GoqJob).</param>
    /// <param name="file">When the worker writes the job's output file itself (a command or program job on the server's
    /// host): its output, and goq's own lines about it, go there instead of to <paramref name="onLine"/>, unless the file
    /// cannot be opened.</param>
    /// <param name="onExited">Called with the exit code the moment a command or program job's main process has ended,
    /// before its pipes are drained.</param>
    /// <param name="run">The job and attempt this run is (a script-block job's runner is told them).</param>
    public async Task<JobOutcome> RunAsync(JobSpec spec, Action<int, DateTimeOffset> onStarted, Action<OutputLine> onLine, CancellationToken cancel,
        IReadOnlyDictionary<string, string>? variables = null, Func<bool>? holdOutput = null, Func<string?>? whyCancelled = null, JobOutputFile? file = null,
        Action<int>? onExited = null, Protocol.RunningJobRef? run = null)
    {
        var gate = new object();
        void Emit(OutputLine line)
        {
            lock (gate)
            {
                onLine(line);
            }
        }

        void Note(OutputStream stream, string text) // a line of goq's own
        {
            lock (gate)
            {
                if (file is null || !file.Line(stream, text))
                {
                    onLine(new OutputLine(stream, text));
                }
            }
        }

        JobOutcome Fail(string reason, int? pid = null, DateTimeOffset? started = null, int? exitCode = null)
        {
            Note(OutputStream.Stderr, "goq: " + reason);
            return new JobOutcome(JobState.Failed, exitCode, reason, pid, started, DateTimeOffset.UtcNow);
        }

        var workingDirectory = string.IsNullOrEmpty(spec.WorkingDirectory) ? Environment.CurrentDirectory : spec.WorkingDirectory;
        if (!Directory.Exists(workingDirectory))
        {
            return Fail($"working directory '{workingDirectory}' does not exist on {Environment.MachineName}");
        }

        // Checkpoint (identity): in a multi-user cluster a job runs as its owner, or not at all.
        Platform.UserAccount? owner = null;
        if (spec.RunAsOwner && options.Owners is { } owners && (owner = owners.Resolve(spec.Owner, out var refusal)) is null)
        {
            return Fail(refusal!);
        }

        if (spec.RunAsOwner && options.Owners is null && !string.Equals(spec.Owner, Environment.UserName, StringComparison.Ordinal))
        {
            // Fails closed: a worker that cannot drop to the owner (not root) runs only its own account's jobs.
            return Fail($"this worker runs as {Environment.UserName}, not root, and cannot run a job of {spec.Owner}'s as them");
        }

        var environment = new Dictionary<string, string?>(_workerEnvironment, StringComparer.Ordinal);

        JobEnvironment.Apply(environment, spec, workingDirectory, options.Withheld);
        if (owner is not null)
        {
            JobOwners.ApplyEnvironment(environment, owner);
        }

        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        if (spec.Kind == JobKind.ScriptBlock)
        {
            if (options.ScriptRunnerCommand is not { Count: > 0 } command || !SpawnedJobProcess.IsSupported)
            {
                return Fail($"this worker cannot run script-block jobs (no PowerShell runner{(SpawnedJobProcess.IsSupported ? "" : " on this platform")})");
            }

            _scripts ??= new ScriptRunnerPool(options, command, () => _workerEnvironment);
            var job = new RunnerJob(
                run?.JobId ?? 0,
                run?.Attempt ?? 0,
                spec.Command, spec.ScriptData, spec.SerializationDepth ?? JobSpec.DefaultSerializationDepth, workingDirectory,
                environment.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!, StringComparer.Ordinal),
                options.MaxJobRecordBytes);
            try
            {
                return await _scripts.RunAsync(job, onStarted, Emit, holdOutput ?? (() => false), cancel, spec.TimeoutSec,
                    whyCancelled, owner).ConfigureAwait(false);
            }
            catch (JobStartException ex)
            {
                return Fail(ex.Message);
            }
        }

        var argv = BuildArgv(spec, workingDirectory, environment.GetValueOrDefault("PATH"), out var reason);
        if (argv is null)
        {
            return Fail(reason!);
        }

        List<string>? runAs = null;
        if (owner is not null)
        {
            if (JobOwners.CannotEnter(owner, workingDirectory) is { } cannot)
            {
                return Fail(cannot); // said clearly here; entered (or not) as the owner after the drop all the same
            }

            runAs = options.Owners!.Drop(owner, environment);
        }

        IJobProcess process;
        try
        {
            process = SpawnedJobProcess.IsSupported && options.NewProcessGroup
                ? SpawnedJobProcess.Start(argv, environment, workingDirectory, Emit, holdOutput, file: file, exited: onExited, runAs: runAs)
                : runAs is null ? DotnetJobProcess.Start(argv, environment, workingDirectory, Emit)
                : throw new JobStartException("this worker cannot start a job as its owner without its own process launcher (Linux, with a process group)");
        }
        catch (JobStartException ex)
        {
            return Fail(ex.Message);
        }

        using var _ = process;
        var startedAt = DateTimeOffset.UtcNow;
        var pid = process.Pid;
        onStarted(pid, startedAt);

        var cancelled = false;
        var timedOut = false;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (spec.TimeoutSec is > 0 and var seconds)
        {
            limit.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        try
        {
            await process.Exited.WaitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            cancelled = cancel.IsCancellationRequested;
            timedOut = !cancelled;
            process.KillTree();
        }

        var exitCode = await process.Exited.ConfigureAwait(false);
        onExited?.Invoke(exitCode); // told already by a spawned process, as it was reaped; the drain below takes milliseconds a keeper could die in

        // The job ends with its main process. Children that outlive it may hold the pipes open: they get a short
        // drain, then end; and so does every process it started, wherever it moved (its group, and by its identity
        // whatever left the group: setsid, a daemon's double fork).
        var leftBehind = !process.OutputDone.IsCompleted
            && await Task.WhenAny(process.OutputDone, Task.Delay(options.OutputDrainGrace, CancellationToken.None)).ConfigureAwait(false) != process.OutputDone;
        EndEveryProcess(process, variables, sweep: leftBehind || cancelled || timedOut);
        if (leftBehind)
        {
            // Guarantee point: the job's end never waits on a pipe something out of reach still holds (it ran as
            // another user, or cleared its environment): after a last short drain it is no longer read.
            if (await Task.WhenAny(process.OutputDone, Task.Delay(AfterKillDrain, CancellationToken.None)).ConfigureAwait(false) != process.OutputDone)
            {
                process.StopReading();
            }

            await process.OutputDone.ConfigureAwait(false);
            Note(OutputStream.Stderr, "goq: processes left behind by the job still held its output open; they were killed");
        }

        var finishedAt = DateTimeOffset.UtcNow;
        JobOutcome Used(JobOutcome outcome) => outcome with { Usage = process.Usage };
        if (timedOut)
        {
            return Used(Fail($"timed out after {spec.TimeoutSec} s; its process tree was killed", pid, startedAt, exitCode));
        }

        if (cancelled)
        {
            Note(OutputStream.Stderr, $"goq: {WhyCancelled(whyCancelled)}; its process tree was killed");
            return Used(new JobOutcome(JobState.Cancelled, exitCode, "cancelled", pid, startedAt, finishedAt));
        }

        if (exitCode == 0)
        {
            return Used(new JobOutcome(JobState.Completed, 0, null, pid, startedAt, finishedAt));
        }

        if (process.Signal is { } signal || (exitCode is > 128 and < 128 + 32 && !OperatingSystem.IsWindows() && (signal = exitCode - 128) > 0))
        {
            var name = signal < SignalNames.Length ? SignalNames[signal] : $"signal {signal}";
            return Used(Fail($"exit code {exitCode}: the process was killed by signal {signal} ({name})", pid, startedAt, exitCode));
        }

        return Used(new JobOutcome(JobState.Failed, exitCode, $"exit code {exitCode}", pid, startedAt, finishedAt));
    }

    /// <summary>What the line a cancelled job's output ends with says happened.</summary>
    internal static string WhyCancelled(Func<string?>? why) => why?.Invoke() ?? "the job was cancelled";

    /// <summary>Ends the warm PowerShell runners.</summary>
    public void Dispose() => _scripts?.Dispose();

    private List<string>? BuildArgv(JobSpec spec, string workingDirectory, string? path, out string? reason)
    {
        reason = null;
        switch (spec.Kind)
        {
            case JobKind.Shell:
                return OperatingSystem.IsWindows()
                    ? [options.PwshPath, "-NoProfile", "-NonInteractive", "-Command", spec.Command]
                    : [File.Exists("/bin/bash") ? "/bin/bash" : "bash", "-c", spec.Command];
            case JobKind.Exec:
                return CommandResolver.Resolve(spec.Command, workingDirectory, path, out reason) is { } program
                    ? [program, .. spec.ArgumentList]
                    : null;
            case JobKind.Script:
                var script = Path.IsPathRooted(spec.Command) ? spec.Command : Path.GetFullPath(Path.Combine(workingDirectory, spec.Command));
                if (!File.Exists(script))
                {
                    reason = $"cannot start '{spec.Command}': no such script ({script})";
                    return null;
                }

                if (script.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase))
                {
                    return [options.PwshPath, "-NoProfile", "-NonInteractive", "-File", script, .. spec.ArgumentList];
                }

                return CommandResolver.IsExecutable(script)
                    ? [script, .. spec.ArgumentList]
                    : [File.Exists("/bin/bash") ? "/bin/bash" : "bash", script, .. spec.ArgumentList];
            default:
                reason = $"unknown job kind {spec.Kind}";
                return null;
        }
    }
}
