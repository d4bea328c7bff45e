using System.Diagnostics;
using Goq.SystemTests.Support;
using Goq.Tests.Support;
using Goq.Worker;

namespace Goq.SystemTests.Worker;

[Collection(RealProcessesCollection.Name)]
public sealed class JobRunnerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly JobRunner _runner = new(new JobRunnerOptions { OutputDrainGrace = TimeSpan.FromSeconds(2) });

    private static string Fixture(string name) =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../fixtures", name));

    private async Task<(JobOutcome Outcome, List<OutputLine> Lines, int Pid)> RunAsync(JobSpec spec, CancellationToken cancel = default)
    {
        var lines = new List<OutputLine>();
        var pid = 0;
        var outcome = await _runner.RunAsync(spec with { WorkingDirectory = spec.WorkingDirectory is "" ? _dir.Path : spec.WorkingDirectory },
            (p, _) => pid = p, lines.Add, cancel);
        return (outcome, lines, pid);
    }

    [Fact]
    public async Task Shell_ExitCodeAndBothStreams_AreReported()
    {
        var (outcome, lines, pid) = await RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "echo hi; sleep 0.2; echo err >&2; exit 3" });
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal(3, outcome.ExitCode);
        Assert.True(pid > 0);
        Assert.Equal([new(OutputStream.Stdout, "hi"), new(OutputStream.Stderr, "err")], lines);
    }

    [Fact]
    public async Task Exec_PassesArgumentsExactly_WithoutAShell()
    {
        string[] args = ["two  spaces", "it's", "$HOME", "a\"b", "*", "; exit 9", "", "back\\slash"];
        var (outcome, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Exec, Command = "printf", ArgumentList = ["[%s]\\n", .. args] });
        Assert.Equal(JobState.Completed, outcome.State);
        Assert.Equal(args.Select(a => $"[{a}]"), lines.Select(l => l.Text));
    }

    [Fact]
    public async Task StderrThenStdout_KeepsWriteOrder_EveryTime()
    {
        for (var i = 0; i < 30; i++)
        {
            var (_, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Script, Command = Fixture("badboy.sh") });
            Assert.Equal([new(OutputStream.Stderr, "some stderr"), new(OutputStream.Stdout, "some stdout")], lines);
        }
    }

    [Fact]
    public async Task ManyJobsAtOnce_EachGetsAllItsOwnOutput_InOrder()
    {
        // All jobs share one I/O thread: no job's lines may go to another job, be lost, or be reordered.
        var runs = Enumerable.Range(0, 40).Select(i => RunAsync(new JobSpec
        {
            Kind = JobKind.Shell,
            Command = $"for n in $(seq 1 200); do echo {i}-$n; done; echo {i}-end >&2",
        })).ToList();
        var results = await Task.WhenAll(runs);
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(JobState.Completed, results[i].Outcome.State);
            // Order within a stream is exact; between the two pipes it is only known for writes far apart in time.
            Assert.Equal(Enumerable.Range(1, 200).Select(n => $"{i}-{n}"),
                results[i].Lines.Where(l => l.Stream == OutputStream.Stdout).Select(l => l.Text));
            Assert.Equal([$"{i}-end"], results[i].Lines.Where(l => l.Stream == OutputStream.Stderr).Select(l => l.Text));
        }
    }

    [Fact]
    public async Task MissingProgram_FailsWithReason_InOutput()
    {
        var (outcome, lines, pid) = await RunAsync(new JobSpec { Kind = JobKind.Exec, Command = "./does-not-exist" });
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Null(outcome.ExitCode);
        Assert.Equal(0, pid);
        Assert.StartsWith("cannot start './does-not-exist'", outcome.Reason);
        Assert.StartsWith("goq: cannot start", Assert.Single(lines).Text);
    }

    [Fact]
    public async Task BadWorkingDirectory_FailsWithReason()
    {
        var (outcome, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "true", WorkingDirectory = _dir.Combine("nope") });
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Contains("does not exist", outcome.Reason);
        Assert.Equal(OutputStream.Stderr, Assert.Single(lines).Stream);
    }

    [Fact]
    public async Task Segfault_FailsWithSignalReason()
    {
        var (outcome, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Script, Command = Fixture("faulter.sh") });
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal(139, outcome.ExitCode);
        Assert.Contains("SIGSEGV", outcome.Reason);
        Assert.Equal("about to fault", lines[0].Text);
    }

    [Fact]
    public async Task NonExecutableScript_RunsThroughBash()
    {
        var script = _dir.Combine("plain.sh");
        await File.WriteAllTextAsync(script, "echo \"args: $1 $2\"\n");
        var (outcome, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Script, Command = script, ArgumentList = ["a b", "c"] });
        Assert.Equal(JobState.Completed, outcome.State);
        Assert.Equal("args: a b c", Assert.Single(lines).Text);
    }

    [Fact]
    public async Task Cancel_KillsTheWholeProcessTree()
    {
        var marker = Guid.NewGuid().ToString("N");
        // Durations no other process on the host has, so only this job's sleeps are counted.
        var tag = Random.Shared.Next(100_000, 999_999);
        using var cancel = new CancellationTokenSource();
        var run = RunAsync(new JobSpec { Kind = JobKind.Shell, Command = $"sleep 300.{tag} & sleep 301.{tag} & echo {marker}; wait" }, cancel.Token);
        await Wait.UntilAsync(() => ProcessesWithArg($"30[01]\\.{tag}") >= 2, what: "the sleeps to start");
        cancel.Cancel();
        var (outcome, _, _) = await run;
        Assert.Equal(JobState.Cancelled, outcome.State);
        // SIGKILL is sent at once; a loaded host may take a while to tear the processes down.
        await Wait.UntilAsync(() => ProcessesWithArg($"30[01]\\.{tag}") == 0, 20_000, "every process of the job to be gone");
    }

    [Theory]
    [InlineData(null, "goq: the job was cancelled; its process tree was killed")]
    [InlineData("its worker stopped, and the job is queued again", "goq: its worker stopped, and the job is queued again; its process tree was killed")]
    public async Task Cancel_SaysWhatHappened_InTheJobsLastLine(string? why, string expected)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new List<OutputLine>();
        using var cancel = new CancellationTokenSource();
        var run = _runner.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "echo started; sleep 300", WorkingDirectory = _dir.Path }, (_, _) => { },
            line =>
            {
                lines.Add(line);
                started.TrySetResult();
            },
            cancel.Token, whyCancelled: () => why);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        cancel.Cancel();
        var outcome = await run;
        Assert.Equal(JobState.Cancelled, outcome.State);
        Assert.Equal(new OutputLine(OutputStream.Stderr, expected), lines[^1]);
    }

    [Fact]
    public async Task BackgroundChildHoldingOutput_IsEndedAfterTheGrace()
    {
        var watch = Stopwatch.StartNew();
        var (outcome, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "sleep 302 & echo started" });
        Assert.Equal(JobState.Completed, outcome.State);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Contains(lines, l => l.Text == "started");
        await Wait.UntilAsync(() => ProcessesWithArg("302") == 0, 5000, "the left-behind sleep to be killed");
    }

    [Fact]
    public void Environment_KeepsProtectedNames_AndDropsGoqSettings()
    {
        var target = new Dictionary<string, string?> { ["PATH"] = "/worker/bin", ["HOME"] = "/home/worker", ["GOQ_HOME"] = "/secret" };
        var spec = new JobSpec
        {
            CapturedEnvironment = new Dictionary<string, string> { ["PATH"] = "/submitter/bin", ["UNTOUCHED"] = "sane", ["TERM_PROGRAM"] = "x" },
            Environment = new Dictionary<string, string> { ["EXPLICIT"] = "1", ["GOQ_JSERV_PORT"] = "1" },
        };
        JobEnvironment.Apply(target, spec, "/work");
        Assert.Equal("/worker/bin", target["PATH"]);
        Assert.Equal("sane", target["UNTOUCHED"]);
        Assert.Equal("1", target["EXPLICIT"]);
        Assert.Equal("/work", target["PWD"]);
        Assert.False(target.ContainsKey("TERM_PROGRAM"));
        Assert.DoesNotContain(target.Keys, k => k.StartsWith("GOQ_", StringComparison.Ordinal));
    }

    [Fact]
    public void Capture_DropsEveryGoqVariable()
    {
        var captured = JobEnvironment.Capture(new Dictionary<string, string> { ["GOQ_HOME"] = "h", ["goq_odir"] = "o", ["UNTOUCHED"] = "sane" });
        Assert.Equal(["UNTOUCHED"], captured.Keys);
    }

    private static int ProcessesWithArg(string pattern)
    {
        var regex = new System.Text.RegularExpressions.Regex($"^sleep\0{pattern}\0$");
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (regex.IsMatch(File.ReadAllText(Path.Combine(dir, "cmdline"))))
                {
                    count++;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return count;
    }

    public void Dispose() => _dir.Dispose();
}
