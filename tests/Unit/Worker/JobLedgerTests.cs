using System.Diagnostics;
using Goq.Tests.Support;
using Goq.Worker;

namespace Goq.Tests.Worker;

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

        var killed = new JobLedger(_dir.Path, "me", _ => { }).SweepOrphans();

        Assert.Equal(2, killed);
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
        WriteLedger("alive", Environment.ProcessId, JobLedger.StartTicks(Environment.ProcessId), "S 1 1\n");
        WriteLedger("dead", 999_999, 12345, "S 2 1\nE 2\nS 3 1\n");

        Assert.Equal(0, new JobLedger(_dir.Path, "me", _ => { }).SweepOrphans());
        Assert.All(new[] { live, ended, otherAttempt }, p => Assert.False(p.HasExited));
        Assert.Single(Directory.GetFiles(_dir.Path, "*.alive.ledger"));
    }

    [Fact]
    public void TheLedgerIsWrittenLineByLine_AsJobsStartAndEnd_AndRemoveCleansUp()
    {
        using var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Starting(5, 1);
        var file = Assert.Single(Directory.GetFiles(_dir.Path));
        var content = JobLedger.Read(file)!; // read while the writer still has it open: each line is already there
        Assert.Equal("me", content.WorkerId);
        Assert.Equal(Environment.ProcessId, content.WorkerPid);
        Assert.Equal(1, content.Jobs[5]);
        ledger.Ended(5);
        Assert.Empty(JobLedger.Read(file)!.Jobs);
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
        Assert.Equal([1L], JobLedger.Read(file)!.Jobs.Keys);
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
