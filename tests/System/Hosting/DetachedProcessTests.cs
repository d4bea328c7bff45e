using Goq.Errors;
using Goq.Hosting;
using Goq.SystemTests.Support;
using Goq.Tests.Support;

namespace Goq.SystemTests.Hosting;

/// <summary>
/// The engine starts whatever command the host gives it, and reads a failed role's reason from its fatal line: real child
/// processes (the fatal line's own format is tested apart, in FatalLineTests).
/// </summary>
public sealed class DetachedProcessTests
{
    [Fact]
    public async Task A_detached_process_that_fails_reports_the_error_of_its_last_fatal_line()
    {
        using var dir = new TempDir();
        var log = dir.Combine("role.log");
        File.WriteAllText(log, "GOQ-FATAL GoqClockSkew Security from an earlier run\n");
        var script = "echo starting; echo 'GOQ-FATAL GoqPortInUse ResourceUnavailable port 5 is taken' >&2; exit 3";

        var process = DetachedProcess.Start(new ProcessCommand("/bin/sh", ["-c", script]), log);
        await Wait.UntilAsync(() => process.HasExited, what: "the process to exit");

        var error = process.FatalError(GoqErrorIds.ServerStartFailed, "server process");
        Assert.Equal(GoqErrorIds.PortInUse, error.ErrorId);
        Assert.Equal(GoqErrorKind.ResourceUnavailable, error.Kind);
        Assert.Equal("port 5 is taken", error.Message);
        Assert.Equal(3, process.ExitCode);
    }

    [Fact]
    public async Task A_detached_process_that_fails_without_a_fatal_line_names_its_log()
    {
        using var dir = new TempDir();
        var log = dir.Combine("role.log");

        var process = DetachedProcess.Start(new ProcessCommand("/bin/sh", ["-c", "echo something broke >&2; exit 4"]), log);
        await Wait.UntilAsync(() => process.HasExited, what: "the process to exit");

        var error = process.FatalError(GoqErrorIds.WorkerStartFailed, "worker process");
        Assert.Equal(GoqErrorIds.WorkerStartFailed, error.ErrorId);
        Assert.Contains("exited with code 4", error.Message);
        Assert.Contains(log, error.Message);
        Assert.Contains("something broke", File.ReadAllText(log));
    }
}
