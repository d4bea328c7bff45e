using Goq.Protocol;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Jobs that wait for others (-DependsOn): blocked, then queued or ended, never left in limbo.</summary>
public sealed class SchedulerDependencyTests
{
    private readonly SchedulerHarness _h = new();

    private long Submit(DependencyMode mode = DependencyMode.AfterOk, params long[] dependsOn) => _h.Submit(Spec(dependsOn: dependsOn, mode: mode)).Id;

    [Fact]
    public void AChain_RunsStepByStep_EachBlockedUntilTheOneBeforeCompletes()
    {
        _h.Hello("w1", slots: 4);
        var a = Submit();
        var b = Submit(DependencyMode.AfterOk, a);
        var c = Submit(DependencyMode.AfterOk, b);
        Assert.Equal([a], _h.DispatchedIds());
        Assert.Equal((JobState.Blocked, $"waiting for job {a} to complete"), (_h.Job(b).State, _h.Job(b).Reason));
        Assert.Equal([a], _h.Job(b).DependsOn);
        Assert.Equal((2, 0, 1), (_h.Scheduler.BlockedJobs, _h.Scheduler.WaitingJobs, _h.Scheduler.RunningJobs));

        _h.End(a);
        Assert.Equal([b], _h.DispatchedIds());
        Assert.Null(_h.Job(b).Reason);
        Assert.Equal(JobState.Blocked, _h.Job(c).State);
        _h.End(b);
        Assert.Equal([c], _h.DispatchedIds());
        _h.End(c);
        Assert.Equal(0, _h.Scheduler.BlockedJobs);
    }

    [Fact]
    public void AFailedStep_EndsEveryStepAfterIt_DependencyFailed_InOneGo_NamingTheJobThatBrokeIt()
    {
        _h.Hello("w1", slots: 1);
        var a = Submit();
        var b = Submit(DependencyMode.AfterOk, a);
        var c = Submit(DependencyMode.AfterOk, b);
        var other = Submit();
        _h.DispatchedIds();
        _h.Scheduler.Watch(Peer("client"), 9, [c]);

        _h.End(a, JobState.Failed);
        Assert.Equal((JobState.DependencyFailed, $"job {a} it depends on ended Failed"), (_h.Job(b).State, _h.Job(b).Reason));
        Assert.Equal((JobState.DependencyFailed, $"job {b} it depends on ended DependencyFailed"), (_h.Job(c).State, _h.Job(c).Reason));
        Assert.NotNull(_h.Job(c).FinishedAt);
        var effects = _h.Effects();
        Assert.Contains(effects, e => e.Message is JobFinishedNotice n && n.Jobs.Single().Id == c); // its waiters are told
        Assert.Equal([other], effects.Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId));
        Assert.Equal(0, _h.Scheduler.BlockedJobs);
        Assert.Equal(3, _h.Store.Counters.FinishedJobs);
    }

    [Fact]
    public void AChainOfTenThousand_IsSettledWithTheEndOfItsHead()
    {
        _h.Hello("w1", slots: 1);
        var head = Submit();
        var previous = head;
        for (var i = 0; i < 9_999; i++)
        {
            previous = Submit(DependencyMode.AfterOk, previous);
        }

        Assert.Equal(9_999, _h.Scheduler.BlockedJobs);
        _h.End(head, JobState.Failed);
        Assert.Equal(0, _h.Scheduler.BlockedJobs);
        Assert.Equal(JobState.DependencyFailed, _h.Job(previous).State);
        Assert.Equal(10_000, _h.Store.Counters.FinishedJobs);
    }

    [Fact]
    public void AJobWaitingForTenThousand_IsReleasedByTheLastOfThem()
    {
        var many = _h.Submit(Enumerable.Range(0, 10_000).Select(_ => Spec()).ToList()).Select(j => j.Id).ToArray();
        var join = Submit(DependencyMode.AfterOk, many);
        Assert.StartsWith("waiting for 10,000 jobs", _h.Job(join).Reason);
        _h.Hello("w1", slots: 10_000);
        Assert.Equal(many, _h.DispatchedIds());
        foreach (var id in many[..^1])
        {
            _h.End(id);
        }

        Assert.Equal((JobState.Blocked, $"waiting for job {many[^1]} to complete"), (_h.Job(join).State, _h.Job(join).Reason));
        _h.End(many[^1]);
        Assert.Equal([join], _h.DispatchedIds());
    }

    [Fact]
    public void FanIn_WaitsForEvery_FanOut_ReleasesEvery_InOrder()
    {
        _h.Hello("w1", slots: 2);
        var a = Submit();
        var b = Submit();
        var join = Submit(DependencyMode.AfterOk, a, b);
        var x = Submit(DependencyMode.AfterOk, join);
        var y = Submit(DependencyMode.AfterOk, join);
        Assert.Equal([a, b], _h.DispatchedIds());

        _h.End(a);
        Assert.Equal((JobState.Blocked, $"waiting for job {b} to complete"), (_h.Job(join).State, _h.Job(join).Reason));
        Assert.Empty(_h.DispatchedIds());
        _h.End(b);
        Assert.Equal([join], _h.DispatchedIds());
        _h.End(join);
        Assert.Equal([x, y], _h.DispatchedIds());
    }

    [Fact]
    public void AfterAny_RunsHoweverTheyEnd_AfterNotOk_OnlyIfOneDidNotComplete()
    {
        _h.Hello("w1", slots: 4);
        var a = Submit();
        var b = Submit();
        var any = Submit(DependencyMode.AfterAny, a, b);
        var cleanUp = Submit(DependencyMode.AfterNotOk, a, b);
        var cleanUpNeverNeeded = Submit(DependencyMode.AfterNotOk, a);
        Assert.Equal([a, b], _h.DispatchedIds());
        Assert.Equal($"waiting for jobs {a}, {b} to end", _h.Job(any).Reason);

        _h.End(a); // completed
        Assert.Equal(JobState.DependencyFailed, _h.Job(cleanUpNeverNeeded).State);
        Assert.Contains("AfterNotOk", _h.Job(cleanUpNeverNeeded).Reason);
        Assert.Equal(JobState.Blocked, _h.Job(cleanUp).State); // waits for b too, even though it may fail
        _h.End(b, JobState.Failed);
        Assert.Equal([any, cleanUp], _h.DispatchedIds());
    }

    [Fact]
    public void ADependencyThatEndedBeforeTheSubmit_CountsWithItsOutcome()
    {
        _h.Hello("w1", slots: 1);
        var done = Submit();
        var failed = Submit();
        _h.DispatchedIds();
        _h.End(done);
        _h.End(failed, JobState.Failed);
        _h.DispatchedIds();

        // Ended: the server tells the scheduler how, from the store.
        JobState? Ended(long id) => _h.Store.Get(id)?.State;
        var runs = _h.Submit([Spec(dependsOn: [done])], endedState: Ended)[0];
        var never = _h.Submit([Spec(dependsOn: [done, failed])], endedState: Ended)[0];
        Assert.Equal(JobState.Running, runs.State);
        Assert.Equal((JobState.DependencyFailed, $"job {failed} it depends on ended Failed"), (never.State, never.Reason));
    }

    [Fact]
    public void Cancelling_ABlockedJob_EndsIt_AndCancellingADependency_BreaksItsDependents()
    {
        _h.Hello("w1", slots: 1);
        var running = Submit();
        var waiting = Submit();
        var onRunning = Submit(DependencyMode.AfterOk, running);
        var onWaiting = Submit(DependencyMode.AfterOk, waiting);
        var anyway = Submit(DependencyMode.AfterAny, waiting);
        _h.DispatchedIds();

        _h.Scheduler.Cancel([onRunning], _h.Now);
        Assert.Equal(JobState.Cancelled, _h.Job(onRunning).State);
        _h.Scheduler.Cancel([waiting], _h.Now);
        Assert.Equal((JobState.DependencyFailed, $"job {waiting} it depends on ended Cancelled"), (_h.Job(onWaiting).State, _h.Job(onWaiting).Reason));
        Assert.Equal(JobState.Waiting, _h.Job(anyway).State);

        _h.End(running);
        Assert.Equal(JobState.Cancelled, _h.Job(onRunning).State); // not brought back by its dependency's end
        Assert.Equal([anyway], _h.DispatchedIds());
    }

    [Fact]
    public void BlockedJobs_StayBlockedOverARestart_AndAreReleasedWhenTheirDependencyEnds()
    {
        _h.Hello("w1", slots: 1);
        var a = Submit();
        var b = Submit(DependencyMode.AfterOk, a);
        var c = Submit(DependencyMode.AfterAny, b);
        _h.DispatchedIds();

        var after = _h.Restart();
        Assert.Equal(2, after.BlockedJobs);
        _h.Hello("w1", running: [new(a, 1)], peer: "w1b");
        Assert.NotNull(_h.Finish("w1", a, attempt: 1));
        Assert.Equal([b], _h.DispatchedIds());
        Assert.Equal(JobState.Blocked, after.GetJob(c)!.State);
    }
}
