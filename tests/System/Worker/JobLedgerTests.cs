using System.Diagnostics;
using Goq.Protocol;
using Goq.SystemTests.Support;
using Goq.Tests.Support;
using Goq.Worker;
using Goq.Platform;

namespace Goq.SystemTests.Worker;

[Collection(RealProcessesCollection.Name)]
public sealed class JobLedgerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<Process> _started = [];

    /// <summary>A process in a session of its own with a job's variables, as a worker would have started it.</summary>
    private Process StartJob(string worker, long jobId, int attempt, string seconds)
    {
        var start = new ProcessStartInfo("setsid") { ArgumentList = { "sleep", seconds } };
        start.Environment[JobVariables.JobId] = jobId.ToString();
        start.Environment[JobVariables.Attempt] = attempt.ToString();
        start.Environment[JobVariables.WorkerId] = worker;
        var process = Process.Start(start)!;
        _started.Add(process);
        return process;
    }

    private void WriteLedger(string worker, int workerPid, long workerStart, string lines) =>
        File.WriteAllText(_dir.Combine($"{Environment.MachineName}.{worker}.ledger"), $"W {workerPid} {workerStart} {worker}\n{lines}");

    [Fact]
    public async Task JobsOfADeadWorker_AreKilled_EvenOneRecordedOnlyAsStarting_AndItsLedgerRemoved()
    {
        var running = StartJob("dead", 7, 1, "305");
        var spawning = StartJob("dead", 8, 2, "305"); // the worker died between its S line and anything after
        await Wait.UntilAsync(() => JobProcessProbe.HasJobVariables(running.Id) && JobProcessProbe.HasJobVariables(spawning.Id), what: "the jobs to run");
        WriteLedger("dead", workerPid: 999_999, workerStart: 12345, "S 6 1\nE 6\nS 7 1\nS 8 2\n");

        var adopted = new JobLedger(_dir.Path, "me", _ => { }).SweepOrphans();

        Assert.Empty(adopted); // it recorded no end
        Assert.True(running.WaitForExit(5000));
        Assert.True(spawning.WaitForExit(5000));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.dead.ledger"));
    }

    [Fact]
    public async Task JobsOfALiveWorker_EndedJobs_AndOtherAttempts_AreLeftAlone()
    {
        var live = StartJob("alive", 1, 1, "306");
        var ended = StartJob("dead", 2, 1, "306");
        var otherAttempt = StartJob("dead", 3, 2, "306");
        await Wait.UntilAsync(() => new[] { live, ended, otherAttempt }.All(p => JobProcessProbe.HasJobVariables(p.Id)), what: "the jobs to run");
        WriteLedger("alive", Environment.ProcessId, Goq.Platform.LiveProcess.StartTicks(Environment.ProcessId), "S 1 1\n");
        WriteLedger("dead", 999_999, 12345, "S 2 1\nE 2\nS 3 1\n");

        Assert.Empty(new JobLedger(_dir.Path, "me", _ => { }).SweepOrphans());
        Assert.All(new[] { live, ended, otherAttempt }, p => Assert.False(p.HasExited));
        Assert.Single(Directory.GetFiles(_dir.Path, "*.alive.ledger"));
    }

    [Fact]
    public void TheLedgerIsWrittenLineByLine_AsJobsStartAndEnd_AndRemoveCleansUp()
    {
        using var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(5, 1);
        var file = Assert.Single(Directory.GetFiles(_dir.Path));
        var content = LedgerContent.Read(file)!; // read while the writer still has it open: each line is already there
        Assert.Equal("me", content.WorkerId);
        Assert.Equal(Environment.ProcessId, content.WorkerPid);
        Assert.Equal(1, content.Jobs[5]);
        ledger.Ended(5);
        Assert.Empty(LedgerContent.Read(file)!.Jobs);
        ledger.Remove();
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void ALongLedgerIsCompacted_ToTheJobsStillRunning()
    {
        using var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(1, 1);
        for (var id = 2; id < 80_000; id++)
        {
            ledger.Starting(id, 1);
            ledger.Ended(id);
        }

        var file = Assert.Single(Directory.GetFiles(_dir.Path));
        Assert.True(new FileInfo(file).Length < 1024 * 1024, "compacted");
        Assert.Equal([1L], LedgerContent.Read(file)!.Jobs.Keys);
    }

    /// <summary>Makes a ledger written by this process name a worker that is gone (a pid no process has); returns its path.</summary>
    private string MarkWorkerGone(string worker)
    {
        var file = _dir.Combine($"{Environment.MachineName}.{worker}.ledger");
        var lines = File.ReadAllLines(file);
        lines[0] = $"W 999999 12345 {worker}";
        File.WriteAllLines(file, lines);
        return file;
    }

    private static JobFinished End(string worker, long jobId, JobState state = JobState.Completed, int exitCode = 0) =>
        new(worker, jobId, 1, state, exitCode, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(2), 4242, 3,
            [new OutputLine(OutputStream.Stdout, "last line")], 2, new JobUsage(1_000_000, 2_000, 64 << 20));

    [Fact]
    public void EndsADeadWorkerRecorded_AndTheServerNeverTook_AreTakenOver_WithTheirExitCodes_UntilAcknowledged()
    {
        using (var dead = new JobLedger(_dir.Path, "dead", _ => { }))
        {
            dead.Starting(9, 1);
            dead.Ended(9, End("dead", 9, JobState.Failed, 3)); // ended, the server never told
            dead.Starting(10, 1);
            dead.Ended(10, End("dead", 10));
            dead.Acknowledged(10, 1); // the server has this one
        }

        var deadFile = MarkWorkerGone("dead");

        using var me = new JobLedger(_dir.Path, "me", _ => { });
        var adopted = Assert.Single(me.SweepOrphans());
        Assert.Equal(("dead", 9L, JobState.Failed, 3, 4242), (adopted.WorkerId, adopted.JobId, adopted.State, adopted.ExitCode, adopted.Pid));
        Assert.Equal("last line", Assert.Single(adopted.Lines!).Text);
        Assert.Equal(64L << 20, adopted.Usage!.MaxRssBytes);
        Assert.False(File.Exists(deadFile));

        // Kept in this worker's ledger until the server has it: a crash of this worker now loses it not.
        Assert.Equal([9L], LedgerContent.Read(me.FilePath)!.Unreported!.Select(e => e.JobId));
        me.Acknowledged(9, 1);
        Assert.Empty(LedgerContent.Read(me.FilePath)!.Unreported!);
    }

    [Fact]
    public void AJobWhoseProcessExited_ButWhoseEndWasNotRecorded_IsReportedFromItsExitCode()
    {
        using (var dead = new JobLedger(_dir.Path, "dead", _ => { }))
        {
            dead.Starting(5, 2);
            dead.Spawned(5, Environment.ProcessId); // any live pid: its start time is what is kept
            dead.Exited(5, 2, 7); // the keeper died while it drained the job's pipes
            dead.Starting(6, 1); // still running when the keeper died: no end to report
        }

        MarkWorkerGone("dead");

        using var me = new JobLedger(_dir.Path, "me", _ => { });
        var adopted = Assert.Single(me.SweepOrphans());
        Assert.Equal(("dead", 5L, 2, JobState.Failed, 7, "exit code 7"), (adopted.WorkerId, adopted.JobId, adopted.Attempt, adopted.State, adopted.ExitCode, adopted.Reason));
        Assert.Equal(Environment.ProcessId, adopted.Pid);
    }

    [Fact]
    public void TheEndOfOneAttempt_DoesNotHideTheNextAttemptRunning_EvenAfterCompaction()
    {
        using var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(4, 1);
        ledger.Ended(4, End("me", 4, JobState.Failed, 1)); // attempt 1 failed, its end not yet acknowledged
        ledger.Starting(4, 2); // the retry runs here
        Assert.Equal(2, LedgerContent.Read(ledger.FilePath)!.Jobs[4]);

        for (var id = 100; id < 40_000; id++)
        {
            ledger.Starting(id, 1);
            ledger.Ended(id);
        }

        var read = LedgerContent.Read(ledger.FilePath)!;
        Assert.Equal(2, read.Jobs[4]);
        Assert.Equal([4L], read.Unreported!.Select(e => e.JobId));
    }

    [Fact]
    public void ACleanExit_LeavesTheUnacknowledgedEnds_ForTheNextWorker_AndNothingElse()
    {
        var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(1, 1);
        ledger.Ended(1, End("me", 1));
        ledger.Starting(2, 1);
        ledger.Ended(2);
        ledger.Remove();

        var left = LedgerContent.Read(ledger.FilePath)!;
        Assert.Empty(left.Jobs);
        Assert.Equal([1L], left.Unreported!.Select(e => e.JobId));

        var clean = new JobLedger(_dir.Path, "clean", _ => { });
        clean.Starting(3, 1);
        clean.Ended(3, End("clean", 3));
        clean.Acknowledged(3, 1);
        clean.Remove();
        Assert.False(File.Exists(clean.FilePath));
    }

    [Fact]
    public void ACompactedLedger_KeepsTheUnacknowledgedEnds()
    {
        using var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(1, 1);
        ledger.Ended(1, End("me", 1));
        for (var id = 2; id < 60_000; id++)
        {
            ledger.Starting(id, 1);
            ledger.Spawned(id, 100 + id);
            ledger.Ended(id);
        }

        Assert.True(new FileInfo(ledger.FilePath).Length < 1024 * 1024, "compacted");
        Assert.Equal([1L], LedgerContent.Read(ledger.FilePath)!.Unreported!.Select(e => e.JobId));
    }

    [Fact]
    public async Task TheSentinel_KillsTheGroupsOfTheJobsItsWorkerRan_WhenTheWorkerIsGone_AndNoOthers()
    {
        var running = StartJob("me", 7, 1, "307");
        var ended = StartJob("me", 8, 1, "307");
        await Wait.UntilAsync(() => JobProcessProbe.HasJobVariables(running.Id) && JobProcessProbe.HasJobVariables(ended.Id), what: "the jobs to run");
        using var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(7, 1);
        ledger.Spawned(7, running.Id);
        ledger.Starting(8, 1);
        ledger.Spawned(8, ended.Id);
        ledger.Ended(8, End("me", 8)); // recorded as ended: not the sentinel's to kill
        var reused = StartJob("other", 9, 1, "307");
        await Wait.UntilAsync(() => JobProcessProbe.HasJobVariables(reused.Id), what: "the other process to run");
        File.AppendAllText(ledger.FilePath, $"S 9 1\nP 9 1 {reused.Id} 1\n"); // a pid that names another process now

        var sentinel = KeeperSentinel.Start(ledger.FilePath, out var why);
        Assert.True(sentinel is not null, why);
        var shell = Process.GetProcessById(sentinel!.Pid!.Value);
        sentinel.Dispose(); // the pipe closes, as the kernel closes it when the worker dies; the ledger is still there

        Assert.True(shell.WaitForExit(10_000), "the sentinel did its work and exited");
        Assert.True(running.WaitForExit(10_000), "the running job's group was killed");
        Assert.False(ended.HasExited);
        Assert.False(reused.HasExited, "a process that took a recorded pid is not the job's: it lives");
    }

    [Fact]
    public async Task TheSentinelOfAWorkerThatExitedCleanly_KillsNothing()
    {
        var job = StartJob("me", 7, 1, "308");
        await Wait.UntilAsync(() => JobProcessProbe.HasJobVariables(job.Id), what: "the job to run");
        var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(7, 1);
        ledger.Spawned(7, job.Id);
        var sentinel = KeeperSentinel.Start(ledger.FilePath, out _)!;
        var shell = Process.GetProcessById(sentinel.Pid!.Value);
        ledger.Remove(); // a clean exit removes the ledger first
        sentinel.Dispose();

        Assert.True(shell.WaitForExit(10_000), "the sentinel exits");
        Assert.False(job.HasExited);
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        _dir.Dispose();
    }
}

/// <summary>Whether a test job runs with its variables: until setsid(1) has exec'd sleep, /proc shows setsid.</summary>
internal static class JobProcessProbe
{
    public static bool HasJobVariables(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep\0", StringComparison.Ordinal)
                && File.ReadAllText($"/proc/{pid}/environ").Contains(JobVariables.JobId + "=", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
