using Goq.Protocol;
using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Why a job waits when no worker is connected: none came yet, the last one was lost, or it stopped.</summary>
public sealed class SchedulerNoWorkerTests
{
    private readonly SchedulerHarness _h = new(new SchedulerOptions { RestartGrace = TimeSpan.FromSeconds(15) });

    [Fact]
    public void WhyWaiting_SaysNoWorkerIsConnected_WhenNoneEverCame()
    {
        var job = _h.Submit(Spec()).Id;
        Assert.StartsWith("no worker is connected yet (the server started at 1970-01-01 00:00:00Z; after a restart its workers come back by 1970-01-01 00:00:15Z)",
            _h.Scheduler.WhyWaiting(job));

        _h.Advance(TimeSpan.FromMinutes(1)); // past the restart grace: no worker is coming back by itself
        _h.Tick();
        Assert.Equal("no worker is connected: Start-GoqWorker starts one", _h.Scheduler.WhyWaiting(job));
    }

    [Fact]
    public void WhyWaiting_SaysTheLastWorkerWasLost_ForTheJobItsDeathQueuedAgain()
    {
        _h.Advance(TimeSpan.FromMinutes(1));
        _h.Tick();
        _h.Hello("w1", host: "node7");
        var job = _h.Submit(Spec()).Id;
        Assert.Equal("w1", _h.Scheduler.GetJob(job)!.WorkerId);

        _h.Advance(TimeSpan.FromMinutes(1));
        _h.Gone("w1", dead: true);
        Assert.Equal(JobState.Waiting, _h.Scheduler.GetJob(job)!.State);
        Assert.Equal("no worker is connected: the last one (on node7) was lost at 1970-01-01 00:02:00Z; Start-GoqWorker starts one", _h.Scheduler.WhyWaiting(job));

        _h.Hello("w2", host: "node7");
        Assert.Null(_h.Scheduler.WhyWaiting(job)); // handed to w2
    }

    [Fact]
    public void WhyWaiting_SaysTheLastWorkerStopped_WhenItWasToldToExit()
    {
        _h.Advance(TimeSpan.FromMinutes(1));
        _h.Tick();
        _h.Hello("w1", host: "node7");
        _h.Scheduler.StopWorkers(idle: true, null, drain: false, _h.Now);
        var job = _h.Submit(Spec()).Id;
        Assert.Equal("no worker is connected: the last one (on node7) stopped at 1970-01-01 00:01:00Z; Start-GoqWorker starts one", _h.Scheduler.WhyWaiting(job));
    }
}
