using System.Diagnostics;
using Goq.Errors;

namespace Goq.Hosting;

/// <summary>
/// Starts a long-lived role process that outlives its caller: in a session of its own (setsid), stdin from /dev/null,
/// output appended to a log file. What it runs comes from the host (<see cref="IRoleCommands"/>); the reason it gives
/// for failing (a <see cref="FatalLine"/> in that log) is turned back into the same <see cref="GoqException"/>.
/// </summary>
public sealed class DetachedProcess
{
    private readonly Process _process;
    private readonly string _logPath;
    private readonly long _logStart;

    private DetachedProcess(Process process, string logPath, long logStart)
    {
        _process = process;
        _logPath = logPath;
        _logStart = logStart;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Waits up to <paramref name="timeout"/> for the process to have exited (and been reaped); true when it has.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>Runs <paramref name="command"/> detached, its standard output and error appended to <paramref name="logPath"/>.</summary>
    public static DetachedProcess Start(ProcessCommand command, string logPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var logStart = File.Exists(logPath) ? new FileInfo(logPath).Length : 0;
        var psi = new ProcessStartInfo { UseShellExecute = false, CreateNoWindow = true };
        if (OperatingSystem.IsWindows())
        {
            psi.FileName = command.Program;
            psi.RedirectStandardOutput = false;
        }
        else
        {
            psi.FileName = "/bin/sh";
            psi.ArgumentList.Add("-c");
            // SIGINT and SIGQUIT back to their defaults (env --default-signal, where coreutils has it): a caller started
            // in the background of a script has them ignored, the role would inherit that, and the runtime then never
            // handles them: Stop-GoqWorker -Local -Force (SIGINT) could not stop such a worker.
            psi.ArgumentList.Add("log=$1; shift; if env --default-signal=INT,QUIT true >/dev/null 2>&1; then set -- env --default-signal=INT,QUIT \"$@\"; fi; "
                + "if command -v setsid >/dev/null 2>&1; then exec setsid \"$@\" </dev/null >>\"$log\" 2>&1; else exec \"$@\" </dev/null >>\"$log\" 2>&1; fi");
            psi.ArgumentList.Add("goq-launch");
            psi.ArgumentList.Add(logPath);
            psi.ArgumentList.Add(command.Program);
        }

        foreach (var arg in command.Arguments)
        {
            psi.ArgumentList.Add(arg);
        }

        // Our own settings must not leak into the child's choice of home or port: the command names them.
        foreach (var name in new[] { "GOQ_HOME", "GOQ_JSERV_PORT" })
        {
            psi.Environment.Remove(name);
        }

        // Idle thread-pool threads spin in sched_yield before they sleep; on a small host that spinning took about a
        // quarter of the CPU in the end-to-end benchmark and cost 25-40 % of its throughput (build.ps1 -Task Bench).
        psi.Environment.TryAdd("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0");

        // Dynamic PGO re-compiles hot methods through an instrumented tier first; in a long-running server or worker
        // that background JIT work went on for tens of seconds and took about a fifth of the CPU of the end-to-end
        // benchmark. Without it, methods still reach optimized code (tier 1), just without profile guidance.
        psi.Environment.TryAdd("DOTNET_TieredPGO", "0");

        // A server with a million jobs queued held 215 MB of live objects in 990 MB of memory: the collector kept the
        // space of the submits' short-lived objects. Conserving memory (compacting when the old generation is
        // fragmented) kept it at 354 MB, at the same submit rate (bench run 14).
        psi.Environment.TryAdd("DOTNET_GCConserveMemory", "7");

        // A page of Get-GoqJob is a few hundred kB, and each reply passes through several buffers of that size (JSON,
        // CURVE box): above 85 kB each went to the large-object heap, whose churn started a full background collection
        // every few pages, a quarter of the server's CPU while listing. Up to 2 MB they now die young in generation 0:
        // 250,000 rows took 1.86 s of server CPU, now 1.37 s.
        psi.Environment.TryAdd("DOTNET_GCLOHThreshold", "0x200000");

        try
        {
            return new DetachedProcess(Process.Start(psi)!, logPath, logStart);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new GoqException(GoqErrorIds.ServerStartFailed, GoqErrorKind.ResourceUnavailable,
                $"cannot start '{command.Program}': {ex.Message}", ex);
        }
    }

    /// <summary>The error the process reported before it exited, or a generic one naming its log.</summary>
    /// <summary>
    /// Called by a detached role as it exits cleanly: its own stderr file (<see cref="Configuration.GoqSettings.StderrPath"/>)
    /// goes when nothing was written to it, so a host's run folder does not fill with one empty file per worker started.
    /// </summary>
    public static void RemoveStderrIfEmpty(string path)
    {
        try
        {
            if (new FileInfo(path) is { Exists: true, Length: 0 })
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // kept: nothing lost but a few bytes of disk
        }
    }

    public GoqException FatalError(string defaultErrorId, string what)
    {
        string[] lines = [];
        try
        {
            using var stream = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(_logStart, SeekOrigin.Begin);
            lines = new StreamReader(stream).ReadToEnd().Split('\n');
        }
        catch (IOException)
        {
        }

        if (lines.Select(l => FatalLine.TryParse(l, defaultErrorId)).LastOrDefault(e => e is not null) is { } fatal)
        {
            return fatal;
        }

        var exit = _process.HasExited ? $"exited with code {_process.ExitCode}" : "did not come up in time";
        return new GoqException(defaultErrorId, GoqErrorKind.ResourceUnavailable, $"the {what} {exit}; see '{_logPath}'");
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
