using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>A real worker taking jobs ahead of a free slot: started as slots free, given back when held too long.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class PrefetchTests : IDisposable
{
    // Any job counts as short here, so a worker that has run one takes jobs ahead however loaded the machine is.
    private readonly Cluster _cluster = new(prefetchHorizon: TimeSpan.FromMinutes(1));

    private string Flag => _cluster.Home.Combine("go");

    private JobSpec Blocking() => Spec($"while [ ! -e '{Flag}' ]; do sleep 0.05; done");

    private JobSpec Spec(string command) => new() { Kind = JobKind.Shell, Command = command, WorkingDirectory = _cluster.Home.Path };

    private async Task<JobInfo> GetAsync(long id) => (await _cluster.Client.GetJobsAsync([id], null)).Jobs[0];

    public void Dispose() => _cluster.Dispose();

    /// <summary>A worker that has run one short job: the server hands a worker jobs ahead by how long its jobs run.</summary>
    private async Task<global::Goq.Worker.GoqWorker> WarmWorkerAsync(int slots, int prefetch, TimeSpan? hold = null)
    {
        var worker = _cluster.AddWorker(slots, prefetch: prefetch, prefetchHold: hold);
        Assert.Equal(JobState.Completed, (await _cluster.RunAsync(Spec("true"))).State);
        return worker;
    }

    [Fact]
    public async Task ShortJobs_RunOneAfterAnother_InTheOrderTheyWereQueued()
    {
        await WarmWorkerAsync(slots: 1, prefetch: 2);
        var jobs = await _cluster.Client.SubmitAsync(Enumerable.Range(0, 30).Select(i => Spec($"echo {i}")).ToList());
        var done = new List<JobInfo>();
        foreach (var job in jobs)
        {
            done.Add(await _cluster.WaitForAsync(job.Id));
        }

        Assert.All(done, j => Assert.Equal((JobState.Completed, 1), (j.State, j.Attempts)));
        // One slot: each job started after the one before it ended, in queue order.
        for (var i = 1; i < done.Count; i++)
        {
            Assert.True(done[i].StartedAt >= done[i - 1].FinishedAt, $"job {done[i].Id} started before job {done[i - 1].Id} ended");
        }

        Assert.Equal(0, (await _cluster.Client.GetStatusAsync()).DeadWorkerResubmits);
    }

    [Fact]
    public async Task AJobHeldTooLong_IsGivenBack_WithoutSpendingAnAttempt_AndRunsWhenTheSlotFrees()
    {
        await WarmWorkerAsync(slots: 1, prefetch: 1, TimeSpan.FromMilliseconds(300));
        var jobs = await _cluster.Client.SubmitAsync([Blocking(), Spec("echo second")]);
        await Wait.UntilAsync(() => _cluster.LogLines.ToArray().Any(l => l.Contains($"giving back job {jobs[1].Id}", StringComparison.Ordinal)),
            what: "the worker to give the second job back");
        var back = await Wait.UntilAsync(() => GetAsync(jobs[1].Id), j => j.State == JobState.Waiting, what: "the second job to be waiting again");
        Assert.Equal(0, back.Attempts);
        Assert.Null(back.WorkerId);
        var worker = Assert.Single(await _cluster.Client.GetWorkersAsync());
        Assert.Equal(0, worker.PrefetchedJobs); // not handed back to it while its slot stays busy

        File.WriteAllText(Flag, "");
        var second = await _cluster.WaitForAsync(jobs[1].Id);
        Assert.Equal((JobState.Completed, 1), (second.State, second.Attempts));
        Assert.Equal(["second"], File.ReadAllLines(second.OutputPath!));
        Assert.Equal(0, (await _cluster.Client.GetStatusAsync()).DeadWorkerResubmits);
    }

    [Fact]
    public async Task AJobHeldAhead_CanBeCancelled_AndNeverRuns()
    {
        await WarmWorkerAsync(slots: 1, prefetch: 1, TimeSpan.FromMinutes(5));
        var jobs = await _cluster.Client.SubmitAsync([Blocking(), Spec("echo never")]);
        var held = await Wait.UntilAsync(() => _cluster.Client.GetWorkersAsync(), w => w.Count == 1 && w[0].PrefetchedJobs == 1, what: "the second job to be held ahead");
        Assert.Equal([jobs[0].Id, jobs[1].Id], held[0].RunningJobs);

        var reply = await _cluster.Client.CancelAsync([jobs[1].Id]);
        Assert.Equal(jobs[1].Id, Assert.Single(reply.Cancelled).Id);
        // Its place is free once the worker confirms: the next job is taken ahead in its stead.
        var third = (await _cluster.Client.SubmitAsync([Spec("echo third")]))[0];
        await Wait.UntilAsync(() => _cluster.Client.GetWorkersAsync(), w => w[0].RunningJobs.Contains(third.Id), what: "the third job to be taken ahead");

        File.WriteAllText(Flag, "");
        Assert.Equal(JobState.Completed, (await _cluster.WaitForAsync(third.Id)).State);
        var cancelled = await GetAsync(jobs[1].Id);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Null(cancelled.StartedAt);
        Assert.Null(cancelled.OutputPath); // it never ran
    }

    [Fact]
    public async Task AWorkerThatDrains_GivesItsJobsHeldAhead_BackAtOnce_ToRunElsewhere()
    {
        var first = await WarmWorkerAsync(slots: 1, prefetch: 2, TimeSpan.FromMinutes(5));
        var jobs = await _cluster.Client.SubmitAsync([Blocking(), Spec("echo b"), Spec("echo c")]);
        await Wait.UntilAsync(() => _cluster.Client.GetWorkersAsync(), w => w.Count == 1 && w[0].PrefetchedJobs == 2, what: "two jobs held ahead");

        await _cluster.Client.StopWorkersAsync(idle: false, [first.Id], drain: true);
        foreach (var held in jobs.Skip(1))
        {
            var back = await Wait.UntilAsync(() => GetAsync(held.Id), j => j.State == JobState.Waiting, what: $"job {held.Id} to be waiting again");
            Assert.Equal(0, back.Attempts);
        }

        Assert.Equal(JobState.Running, (await GetAsync(jobs[0].Id)).State); // the running one finishes where it is
        _cluster.AddWorker(slots: 2);
        foreach (var held in jobs.Skip(1))
        {
            var done = await _cluster.WaitForAsync(held.Id);
            Assert.Equal((JobState.Completed, 1), (done.State, done.Attempts));
            Assert.NotEqual(first.Id, done.WorkerId);
        }

        File.WriteAllText(Flag, "");
        var drained = await _cluster.WaitForAsync(jobs[0].Id);
        Assert.Equal((JobState.Completed, first.Id), (drained.State, drained.WorkerId));
    }
}
