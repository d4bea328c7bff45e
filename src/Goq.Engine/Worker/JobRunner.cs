using System.ComponentModel;
using System.Diagnostics;
using System.IO.Pipes;
using System.Text;

namespace Goq.Worker;

/// <summary>
/// Runs one job as a process: in its own process group, stdin closed, stdout and stderr read line by line and
/// handed on in the order they were read. Every outcome (including a missing program, a bad directory or a
/// crash) becomes a <see cref="JobOutcome"/>; nothing a job does can throw out of here.
/// </summary>
public sealed class JobRunner(JobRunnerOptions options)
{
    private static readonly string SetsidPath = "/usr/bin/setsid";
    private static readonly string[] SignalNames =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    ];

    /// <param name="spec">What to run.</param>
    /// <param name="onStarted">Called with the pid and start time once the process runs.</param>
    /// <param name="onLine">Called for each line, never concurrently, in the order lines were read.</param>
    /// <param name="cancel">Cancelling kills the job's whole process tree; the outcome is then Cancelled.</param>
    public async Task<JobOutcome> RunAsync(JobSpec spec, Action<int, DateTimeOffset> onStarted, Action<OutputLine> onLine, CancellationToken cancel)
    {
        var gate = new object();
        void Emit(OutputStream stream, string text)
        {
            lock (gate)
            {
                onLine(new OutputLine(stream, text));
            }
        }

        JobOutcome Fail(string reason, int? pid = null, DateTimeOffset? started = null, int? exitCode = null)
        {
            Emit(OutputStream.Stderr, "goq: " + reason);
            return new JobOutcome(JobState.Failed, exitCode, reason, pid, started, DateTimeOffset.UtcNow);
        }

        var workingDirectory = string.IsNullOrEmpty(spec.WorkingDirectory) ? Environment.CurrentDirectory : spec.WorkingDirectory;
        if (!Directory.Exists(workingDirectory))
        {
            return Fail($"working directory '{workingDirectory}' does not exist on {Environment.MachineName}");
        }

        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory,
        };
        JobEnvironment.Apply(psi.Environment, spec, workingDirectory);
        var argv = BuildArgv(spec, workingDirectory, psi.Environment.TryGetValue("PATH", out var path) ? path : null, out var reason);
        if (argv is null)
        {
            return Fail(reason!);
        }

        var ownGroup = options.NewProcessGroup && OperatingSystem.IsLinux() && File.Exists(SetsidPath);
        if (ownGroup)
        {
            // setsid(1) is not a group leader when we start it, so it calls setsid() and execs in place: the pid we
            // see is the job's own, and the job leads a new session and process group.
            argv.Insert(0, SetsidPath);
        }

        psi.FileName = argv[0];
        foreach (var arg in argv.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
        {
            return Fail($"cannot start '{spec.Command}': {ex.Message}");
        }

        var startedAt = DateTimeOffset.UtcNow;
        var pid = process.Id;
        process.StandardInput.Close();
        onStarted(pid, startedAt);
        var readers = ReadOutputAsync(process, Emit);

        var cancelled = false;
        try
        {
            await process.WaitForExitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
            ProcessTree.Kill(process, ownGroup);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        // Children that outlive the main process may hold the pipes open: wait a while, then end them.
        if (await Task.WhenAny(readers, Task.Delay(options.OutputDrainGrace, CancellationToken.None)).ConfigureAwait(false) != readers)
        {
            ProcessTree.KillGroup(pid);
            Emit(OutputStream.Stderr, "goq: processes left behind by the job still held its output open; they were killed");
        }

        try
        {
            await readers.ConfigureAwait(false);
        }
        catch (IOException)
        {
            // A broken pipe at the end changes nothing about how the job ended.
        }

        var finishedAt = DateTimeOffset.UtcNow;
        var exitCode = process.ExitCode;
        if (cancelled)
        {
            Emit(OutputStream.Stderr, "goq: the job was cancelled; its process tree was killed");
            return new JobOutcome(JobState.Cancelled, exitCode, "cancelled", pid, startedAt, finishedAt);
        }

        if (exitCode == 0)
        {
            return new JobOutcome(JobState.Completed, 0, null, pid, startedAt, finishedAt);
        }

        if (exitCode is > 128 and < 128 + 32 && !OperatingSystem.IsWindows())
        {
            var signal = exitCode - 128;
            var name = signal < SignalNames.Length ? SignalNames[signal] : $"signal {signal}";
            return Fail($"exit code {exitCode}: the process was killed by signal {signal} ({name})", pid, startedAt, exitCode);
        }

        return new JobOutcome(JobState.Failed, exitCode, $"exit code {exitCode}", pid, startedAt, finishedAt);
    }

    private Task ReadOutputAsync(Process process, Action<OutputStream, string> emit)
    {
        if (!OperatingSystem.IsWindows()
            && process.StandardOutput.BaseStream is PipeStream stdout && process.StandardError.BaseStream is PipeStream stderr)
        {
            // One poller for both pipes keeps the order in which the job wrote to them (see PipePoller).
            var outFd = (int)stdout.SafePipeHandle.DangerousGetHandle();
            var errFd = (int)stderr.SafePipeHandle.DangerousGetHandle();
            return Task.Factory.StartNew(() => PipePoller.Pump(outFd, errFd, options.MaxLineChars, emit),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        return Task.WhenAll(
            LineReader.PumpAsync(process.StandardOutput, options.MaxLineChars, t => emit(OutputStream.Stdout, t)),
            LineReader.PumpAsync(process.StandardError, options.MaxLineChars, t => emit(OutputStream.Stderr, t)));
    }

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
