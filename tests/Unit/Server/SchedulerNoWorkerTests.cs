using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>Why a job waits when no worker is connected: none came yet, the last one was lost, or it stopped.</summary>
public sealed class SchedulerNoWorkerTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private static readonly SchedulerOptions Options = new() { RestartGrace = TimeSpan.FromSeconds(15) };
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;

    public SchedulerNoWorkerTests() => _scheduler = new Scheduler(_store, Options, Now);

    private long Submit() => _scheduler.Submit([new JobSpec { Kind = JobKind.Shell, Command = "true" }], Now)[0].Id;

    private void Worker(string id, DateTimeOffset? at = null) =>
        _scheduler.WorkerHello(new PeerId(id), new WorkerHello(id, "node7", 1, 1, [], "v", false, Prefetch: 0), at ?? Now);

    [Fact]
    public void WhyWaiting_SaysNoWorkerIsConnected_WhenNoneEverCame()
    {
        var job = Submit();
        Assert.StartsWith("no worker is connected yet (the server started at 1970-01-01 00:00:00Z; after a restart its workers come back by 1970-01-01 00:00:15Z)",
            _scheduler.WhyWaiting(job));

        _scheduler.Tick(Now.AddMinutes(1)); // past the restart grace: no worker is coming back by itself
        Assert.Equal("no worker is connected: Start-GoqWorker starts one", _scheduler.WhyWaiting(job));
    }

    [Fact]
    public void WhyWaiting_SaysTheLastWorkerWasLost_ForTheJobItsDeathQueuedAgain()
    {
        _scheduler.Tick(Now.AddMinutes(1));
        Worker("w1");
        var job = Submit();
        Assert.Equal("w1", _scheduler.GetJob(job)!.WorkerId);

        _scheduler.WorkerGone("w1", dead: true, Now.AddMinutes(2));
        Assert.Equal(JobState.Waiting, _scheduler.GetJob(job)!.State);
        Assert.Equal("no worker is connected: the last one (on node7) was lost at 1970-01-01 00:02:00Z; Start-GoqWorker starts one", _scheduler.WhyWaiting(job));

        Worker("w2");
        Assert.Null(_scheduler.WhyWaiting(job)); // handed to w2
    }

    [Fact]
    public void WhyWaiting_SaysTheLastWorkerStopped_WhenItWasToldToExit()
    {
        _scheduler.Tick(Now.AddMinutes(1));
        Worker("w1", Now.AddMinutes(1));
        _scheduler.StopWorkers(idle: true, null, drain: false);
        var job = Submit();
        Assert.Equal("no worker is connected: the last one (on node7) stopped at 1970-01-01 00:01:00Z; Start-GoqWorker starts one", _scheduler.WhyWaiting(job));
    }
}
