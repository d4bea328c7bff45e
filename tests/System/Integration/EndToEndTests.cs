using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

[Collection(RealProcessesCollection.Name)]
public sealed class EndToEndTests : IDisposable
{
    private readonly Cluster _cluster = new();

    [Fact]
    public async Task ShellJob_RunsOnWorker_AndReportsExitCode()
    {
        _cluster.AddWorker();
        var job = await _cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "echo hi; echo oops >&2; exit 3" });

        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(3, job.ExitCode);
        var output = await _cluster.OutputAsync(job.Id);
        Assert.Contains(new OutputLine(OutputStream.Stdout, "hi"), output);
        Assert.Contains(new OutputLine(OutputStream.Stderr, "oops"), output);
        Assert.Equal(Path.Combine(_cluster.Home.Path, "o", "out.00001"), job.OutputPath);
        Assert.Equal(["hi", "oops"], File.ReadAllLines(job.OutputPath!).Order());
    }

    [Fact]
    public async Task JobSubmittedBeforeAnyWorker_StartsWhenWorkerArrives()
    {
        var submitted = await _cluster.Client.SubmitAsync([new JobSpec { Kind = JobKind.Exec, Command = "/bin/echo", ArgumentList = ["hello world"], WorkingDirectory = _cluster.Home.Path }]);
        Assert.Equal(JobState.Waiting, submitted[0].State);
        _cluster.AddWorker(slots: 1);

        var job = await _cluster.WaitForAsync(submitted[0].Id);
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal("hello world", File.ReadAllText(job.OutputPath!).Trim());
    }

    [Fact]
    public async Task IdleSlots_CountAsWaitingWorkers()
    {
        _cluster.AddWorker(slots: 4);
        _cluster.AddWorker(slots: 6);
        await _cluster.WaitForIdleSlotsAsync(10);
        var workers = await _cluster.Client.GetWorkersAsync();
        Assert.Equal(2, workers.Count);
        Assert.Equal(10, workers.Sum(w => w.Slots));
    }

    [Fact]
    public async Task ManyJobs_AllComplete_WithIdsInOrder()
    {
        _cluster.AddWorker(slots: 2);
        var specs = Enumerable.Range(0, 200).Select(i => new JobSpec { Kind = JobKind.Exec, Command = "/bin/true", WorkingDirectory = _cluster.Home.Path }).ToList();
        var jobs = await _cluster.Client.SubmitAsync(specs);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), jobs.Select(j => j.Id));

        var seen = 0;
        Assert.True(await _cluster.Client.WaitAsync(jobs.Select(j => j.Id).ToList(), false, TimeSpan.FromSeconds(60), _ => Interlocked.Increment(ref seen)));
        Assert.Equal(200, seen);
        var status = await _cluster.Client.GetStatusAsync();
        Assert.Equal(200, status.FinishedJobs);
        Assert.Equal(201, status.NextJobId);
        Assert.Equal(0, status.RunningJobs);
    }

    [Fact]
    public async Task WaitOnUnknownJob_ReportsItPromptly()
    {
        var events = new List<Goq.Client.WaitEvent>();
        Assert.True(await _cluster.Client.WaitAsync([42], false, TimeSpan.FromSeconds(5), events.Add));
        Assert.Equal(42, Assert.Single(events).Id);
        Assert.Null(events[0].Job);
    }

    [Fact]
    public async Task OneShotWorker_RunsOneJobAndExits()
    {
        var worker = _cluster.AddWorker(slots: 1, oneShot: true);
        var jobs = await _cluster.Client.SubmitAsync(Enumerable.Range(0, 2).Select(_ => new JobSpec { Kind = JobKind.Exec, Command = "/bin/true", WorkingDirectory = _cluster.Home.Path }).ToList());
        await worker.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        var states = (await _cluster.Client.GetJobsAsync(jobs.Select(j => j.Id).ToList(), null)).Jobs.Select(j => j.State).ToList();
        Assert.Equal([JobState.Completed, JobState.Waiting], states);
        await Wait.UntilAsync(() => _cluster.Client.GetStatusAsync(), s => s.Workers == 0, what: "worker gone");
    }

    public void Dispose() => _cluster.Dispose();
}
