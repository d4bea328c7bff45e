using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>Jobs held back: by a user (-Hold, Suspend-GoqJob) until released, or until a -NotBefore time.</summary>
public sealed class SchedulerHoldTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;

    public SchedulerHoldTests()
    {
        _scheduler = new Scheduler(_store, now: Now);
        _scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 1, [], "v", false), Now);
    }

    private static JobSpec Spec(bool hold = false, DateTimeOffset? notBefore = null, params long[] dependsOn) =>
        new() { Kind = JobKind.Shell, Command = "true", Hold = hold, NotBefore = notBefore, DependsOn = dependsOn };

    private JobInfo Submit(JobSpec spec) => _scheduler.Submit([spec], Now)[0];

    private JobInfo Job(long id) => _scheduler.GetJob(id) ?? _store.Get(id)!;

    private List<long> Dispatched() => _scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId).ToList();

    /// <summary>Time passes; the worker says it is still there.</summary>
    private void Tick(DateTimeOffset at)
    {
        _scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 1, [], "v", false), at);
        _scheduler.Tick(at);
    }

    private void End(long id, JobState state = JobState.Completed) =>
        Assert.NotNull(_scheduler.JobFinished(new JobFinished("w1", id, Job(id).Attempts, state, 0, null, Now, Now)));

    [Fact]
    public void AJobSubmittedHeld_WaitsForItsRelease_ThenRunsInItsPlace()
    {
        var held = Submit(Spec(hold: true));
        var next = Submit(Spec());
        Assert.Equal((JobState.Held, "held: Resume-GoqJob releases it"), (held.State, held.Reason));
        Assert.Equal([next.Id], Dispatched());
        Assert.Equal((1, 0, 1), (_scheduler.HeldJobs, _scheduler.WaitingJobs, _scheduler.RunningJobs));

        var reply = _scheduler.Release([held.Id, next.Id, 99], Now);
        Assert.Equal([held.Id], reply.Changed.Select(j => j.Id));
        Assert.Equal([next.Id], reply.Started.Select(j => j.Id)); // it runs: nothing to release
        Assert.Equal([99L], reply.Unknown);
        Assert.Equal((JobState.Waiting, false), (held.State, held.Hold));
        End(next.Id);
        Assert.Equal([held.Id], Dispatched());
    }

    [Fact]
    public void Suspending_AWaitingJob_TakesItOutOfTheQueue_UntilResumed()
    {
        var running = Submit(Spec());
        var a = Submit(Spec());
        var b = Submit(Spec());
        Dispatched();
        Assert.Equal([a.Id], _scheduler.Hold([a.Id], Now).Changed.Select(j => j.Id));
        Assert.Equal(JobState.Held, a.State);
        Assert.True(a.Hold);
        Assert.Equal([running.Id], _scheduler.Hold([running.Id], Now).Started.Select(j => j.Id));

        End(running.Id);
        Assert.Equal([b.Id], Dispatched());
        _scheduler.Release([a.Id], Now);
        End(b.Id);
        Assert.Equal([a.Id], Dispatched());
    }

    [Fact]
    public void AJobNotBeforeATime_WaitsForTheTickThatReachesIt()
    {
        var later = Submit(Spec(notBefore: Now.AddMinutes(5)));
        Assert.Equal((JobState.Waiting, "not before 1970-01-01 00:05:00Z"), (later.State, later.Reason));
        Assert.Equal((0, 1, 0), (_scheduler.HeldJobs, _scheduler.WaitingJobs, _scheduler.RunningJobs));
        Assert.Empty(Dispatched());
        Tick(Now.AddMinutes(4));
        Assert.Empty(Dispatched());
        Tick(Now.AddMinutes(5));
        Assert.Equal([later.Id], Dispatched());
    }

    [Fact]
    public void AHeldJobs_Dependencies_AreFollowed_ItEndsIfTheyBreak_AndBlocksIfTheyAreStillPendingWhenReleased()
    {
        var running = Submit(Spec());
        var breaks = Submit(Spec(hold: true, dependsOn: running.Id));
        var first = Submit(Spec());
        var pending = Submit(Spec(hold: true, dependsOn: first.Id));
        Dispatched();
        Assert.Equal($"held: Resume-GoqJob releases it; then waiting for job {running.Id} to complete", breaks.Reason);

        End(running.Id, JobState.Failed);
        Assert.Equal(JobState.DependencyFailed, Job(breaks.Id).State); // held or not, never left in limbo
        Dispatched();
        _scheduler.Release([pending.Id], Now);
        Assert.Equal((JobState.Blocked, $"waiting for job {first.Id} to complete"), (pending.State, pending.Reason));
        End(first.Id);
        Assert.Equal([pending.Id], Dispatched());
    }

    [Fact]
    public void AHeldJob_CanBeCancelled()
    {
        var held = Submit(Spec(hold: true, notBefore: Now.AddHours(1)));
        _scheduler.Cancel([held.Id], Now);
        Assert.Equal(JobState.Cancelled, Job(held.Id).State);
        Assert.Equal(0, _scheduler.HeldJobs);
        Tick(Now.AddHours(2));
        Assert.Empty(Dispatched());
    }

    [Fact]
    public void HoldsAndTimes_SurviveARestart()
    {
        var blocker = Submit(Spec());
        var held = Submit(Spec(hold: true));
        var timed = Submit(Spec(notBefore: Now.AddMinutes(10)));
        Dispatched();

        var after = new Scheduler(_store, now: Now.AddMinutes(1));
        Assert.Equal((1, 1), (after.HeldJobs, after.WaitingJobs));
        Assert.Equal("not before 1970-01-01 00:10:00Z", after.GetJob(timed.Id)!.Reason);
        after.Tick(Now.AddMinutes(11));
        Assert.Equal(JobState.Waiting, after.GetJob(timed.Id)!.State);
        Assert.Equal(JobState.Held, after.GetJob(held.Id)!.State);
        Assert.NotNull(blocker);
    }
}
