using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Jobs held back: by a user (-Hold, Suspend-GoqJob) until released, or until a -NotBefore time.</summary>
public sealed class SchedulerHoldTests
{
    private readonly SchedulerHarness _h = new();

    public SchedulerHoldTests() => _h.Hello("w1");

    /// <summary>Time passes; the worker says it is still there.</summary>
    private void Tick(DateTimeOffset at)
    {
        _h.Now = at;
        _h.Hello("w1");
        _h.Tick();
    }

    [Fact]
    public void AJobSubmittedHeld_WaitsForItsRelease_ThenRunsInItsPlace()
    {
        var held = _h.Submit(Spec(hold: true));
        var next = _h.Submit(Spec());
        Assert.Equal((JobState.Held, "held: Resume-GoqJob releases it"), (held.State, held.Reason));
        Assert.Equal([next.Id], _h.DispatchedIds());
        Assert.Equal((1, 0, 1), (_h.Scheduler.HeldJobs, _h.Scheduler.WaitingJobs, _h.Scheduler.RunningJobs));

        var reply = _h.Scheduler.Release([held.Id, next.Id, 99], _h.Now);
        Assert.Equal([held.Id], reply.Changed.Select(j => j.Id));
        Assert.Equal([next.Id], reply.Started.Select(j => j.Id)); // it runs: nothing to release
        Assert.Equal([99L], reply.Unknown);
        Assert.Equal((JobState.Waiting, false), (held.State, held.Hold));
        _h.End(next.Id);
        Assert.Equal([held.Id], _h.DispatchedIds());
    }

    [Fact]
    public void Suspending_AWaitingJob_TakesItOutOfTheQueue_UntilResumed()
    {
        var running = _h.Submit(Spec());
        var a = _h.Submit(Spec());
        var b = _h.Submit(Spec());
        _h.DispatchedIds();
        Assert.Equal([a.Id], _h.Scheduler.Hold([a.Id], _h.Now).Changed.Select(j => j.Id));
        Assert.Equal(JobState.Held, a.State);
        Assert.True(a.Hold);
        Assert.Equal([running.Id], _h.Scheduler.Hold([running.Id], _h.Now).Started.Select(j => j.Id));

        _h.End(running.Id);
        Assert.Equal([b.Id], _h.DispatchedIds());
        _h.Scheduler.Release([a.Id], _h.Now);
        _h.End(b.Id);
        Assert.Equal([a.Id], _h.DispatchedIds());
    }

    [Fact]
    public void AJobNotBeforeATime_WaitsForTheTickThatReachesIt()
    {
        var later = _h.Submit(Spec(notBefore: Epoch.AddMinutes(5)));
        Assert.Equal((JobState.Waiting, "not before 1970-01-01 00:05:00Z"), (later.State, later.Reason));
        Assert.Equal((0, 1, 0), (_h.Scheduler.HeldJobs, _h.Scheduler.WaitingJobs, _h.Scheduler.RunningJobs));
        Assert.Empty(_h.DispatchedIds());
        Tick(Epoch.AddMinutes(4));
        Assert.Empty(_h.DispatchedIds());
        Tick(Epoch.AddMinutes(5));
        Assert.Equal([later.Id], _h.DispatchedIds());
    }

    [Fact]
    public void AHeldJobs_Dependencies_AreFollowed_ItEndsIfTheyBreak_AndBlocksIfTheyAreStillPendingWhenReleased()
    {
        var running = _h.Submit(Spec());
        var breaks = _h.Submit(Spec(hold: true, dependsOn: [running.Id]));
        var first = _h.Submit(Spec());
        var pending = _h.Submit(Spec(hold: true, dependsOn: [first.Id]));
        _h.DispatchedIds();
        Assert.Equal($"held: Resume-GoqJob releases it; then waiting for job {running.Id} to complete", breaks.Reason);

        _h.End(running.Id, JobState.Failed);
        Assert.Equal(JobState.DependencyFailed, _h.Job(breaks.Id).State); // held or not, never left in limbo
        _h.DispatchedIds();
        _h.Scheduler.Release([pending.Id], _h.Now);
        Assert.Equal((JobState.Blocked, $"waiting for job {first.Id} to complete"), (pending.State, pending.Reason));
        _h.End(first.Id);
        Assert.Equal([pending.Id], _h.DispatchedIds());
    }

    [Fact]
    public void AHeldJob_CanBeCancelled()
    {
        var held = _h.Submit(Spec(hold: true, notBefore: Epoch.AddHours(1)));
        _h.Scheduler.Cancel([held.Id], _h.Now);
        Assert.Equal(JobState.Cancelled, _h.Job(held.Id).State);
        Assert.Equal(0, _h.Scheduler.HeldJobs);
        Tick(Epoch.AddHours(2));
        Assert.Empty(_h.DispatchedIds());
    }

    [Fact]
    public void HoldsAndTimes_SurviveARestart()
    {
        var blocker = _h.Submit(Spec());
        var held = _h.Submit(Spec(hold: true));
        var timed = _h.Submit(Spec(notBefore: Epoch.AddMinutes(10)));
        _h.DispatchedIds();

        _h.Now = Epoch.AddMinutes(1);
        var after = _h.Restart();
        Assert.Equal((1, 1), (after.HeldJobs, after.WaitingJobs));
        Assert.Equal("not before 1970-01-01 00:10:00Z", after.GetJob(timed.Id)!.Reason);
        _h.Now = Epoch.AddMinutes(11);
        _h.Tick();
        Assert.Equal(JobState.Waiting, after.GetJob(timed.Id)!.State);
        Assert.Equal(JobState.Held, after.GetJob(held.Id)!.State);
        Assert.NotNull(blocker);
    }
}
