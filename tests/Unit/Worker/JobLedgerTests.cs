using System.Diagnostics;
using System.Text.Json;
using Goq.Protocol;
using Goq.Tests.Support;
using Goq.Worker;

namespace Goq.Tests.Worker;

[Collection(RealProcessesCollection.Name)]
public sealed class JobLedgerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<Process> _started = [];

    private Process StartInOwnSession(string seconds)
    {
        // setsid(1) is not a group leader when started from here, so it execs in place: pid = process group.
        var process = Process.Start(new ProcessStartInfo("setsid") { ArgumentList = { "sleep", seconds } })!;
        _started.Add(process);
        return process;
    }

    // Until setsid(1) has exec'd sleep, the new session may not exist yet.
    private static bool IsSleep(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep\0", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private void WriteLedger(string name, int workerPid, long workerStart, params JobLedgerEntry[] jobs) =>
        File.WriteAllText(_dir.Combine($"{Environment.MachineName}.{name}.json"),
            JsonSerializer.Serialize(new JobLedgerFile(workerPid, workerStart, jobs), GoqJsonContext.Default.JobLedgerFile));

    [Fact]
    public async Task JobsOfADeadWorker_AreKilled_AndItsLedgerRemoved()
    {
        var orphan = StartInOwnSession("305");
        await Wait.UntilAsync(() => IsSleep(orphan.Id), what: "the orphan to lead its own session");
        WriteLedger("dead", workerPid: 999_999, workerStart: 12345, new JobLedgerEntry(7, orphan.Id, JobLedger.StartTicks(orphan.Id)));

        var killed = new JobLedger(_dir.Path, "me", _ => { }).SweepOrphans();

        Assert.Equal(1, killed);
        Assert.True(orphan.WaitForExit(5000));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.dead.json"));
    }

    [Fact]
    public async Task JobsOfALiveWorker_AndReusedPids_AreLeftAlone()
    {
        var job = StartInOwnSession("306");
        await Wait.UntilAsync(() => IsSleep(job.Id), what: "the job to lead its own session");
        WriteLedger("alive", Environment.ProcessId, JobLedger.StartTicks(Environment.ProcessId), new JobLedgerEntry(1, job.Id, JobLedger.StartTicks(job.Id)));
        WriteLedger("dead", 999_999, 12345, new JobLedgerEntry(2, job.Id, JobLedger.StartTicks(job.Id) + 1)); // another process had that pid

        Assert.Equal(0, new JobLedger(_dir.Path, "me", _ => { }).SweepOrphans());
        Assert.False(job.HasExited);
        Assert.Single(Directory.GetFiles(_dir.Path, "*.alive.json"));
    }

    [Fact]
    public void Record_WritesTheRunningJobs_AndRemoveCleansUp()
    {
        var ledger = new JobLedger(_dir.Path, "me", _ => { });
        ledger.Record([(5, Environment.ProcessId)]);
        var file = Assert.Single(Directory.GetFiles(_dir.Path));
        var content = JsonSerializer.Deserialize(File.ReadAllText(file), GoqJsonContext.Default.JobLedgerFile)!;
        Assert.Equal(5, Assert.Single(content.Jobs).JobId);
        ledger.Remove();
        Assert.Empty(Directory.GetFiles(_dir.Path));
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
