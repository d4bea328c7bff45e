using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>Jobs that wait for others (-DependsOn): blocked, then queued or ended, never left in limbo.</summary>
public sealed class SchedulerDependencyTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;

    public SchedulerDependencyTests() => _scheduler = new Scheduler(_store);

    private static JobSpec Spec(DependencyMode mode = DependencyMode.AfterOk, params long[] dependsOn) =>
        new() { Kind = JobKind.Shell, Command = "true", DependsOn = dependsOn, DependencyMode = mode };

    private long Submit(DependencyMode mode = DependencyMode.AfterOk, params long[] dependsOn) => _scheduler.Submit([Spec(mode, dependsOn)], Now)[0].Id;

    private JobInfo Job(long id) => _scheduler.GetJob(id) ?? _store.Get(id)!;

    private void Hello(int slots) => _scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, slots, [], "v", false), Now);

    private List<long> Dispatched() => _scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId).ToList();

    private void End(long id, JobState state = JobState.Completed) =>
        Assert.NotNull(_scheduler.JobFinished(new JobFinished("w1", id, Job(id).Attempts, state, state == JobState.Completed ? 0 : 1, null, Now, Now)));

    [Fact]
    public void AChain_RunsStepByStep_EachBlockedUntilTheOneBeforeCompletes()
    {
        Hello(slots: 4);
        var a = Submit();
        var b = Submit(DependencyMode.AfterOk, a);
        var c = Submit(DependencyMode.AfterOk, b);
        Assert.Equal([a], Dispatched());
        Assert.Equal((JobState.Blocked, $"waiting for job {a} to complete"), (Job(b).State, Job(b).Reason));
        Assert.Equal([a], Job(b).DependsOn);
        Assert.Equal((2, 0, 1), (_scheduler.BlockedJobs, _scheduler.WaitingJobs, _scheduler.RunningJobs));

        End(a);
        Assert.Equal([b], Dispatched());
        Assert.Null(Job(b).Reason);
        Assert.Equal(JobState.Blocked, Job(c).State);
        End(b);
        Assert.Equal([c], Dispatched());
        End(c);
        Assert.Equal(0, _scheduler.BlockedJobs);
    }

    [Fact]
    public void AFailedStep_EndsEveryStepAfterIt_DependencyFailed_InOneGo_NamingTheJobThatBrokeIt()
    {
        Hello(slots: 1);
        var a = Submit();
        var b = Submit(DependencyMode.AfterOk, a);
        var c = Submit(DependencyMode.AfterOk, b);
        var other = Submit();
        Dispatched();
        _scheduler.Watch(new PeerId("client"), 9, [c]);

        End(a, JobState.Failed);
        Assert.Equal((JobState.DependencyFailed, $"job {a} it depends on ended Failed"), (Job(b).State, Job(b).Reason));
        Assert.Equal((JobState.DependencyFailed, $"job {b} it depends on ended DependencyFailed"), (Job(c).State, Job(c).Reason));
        Assert.NotNull(Job(c).FinishedAt);
        var effects = _scheduler.TakeEffects();
        Assert.Contains(effects, e => e.Message is JobFinishedNotice n && n.Jobs.Single().Id == c); // its waiters are told
        Assert.Equal([other], effects.Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId));
        Assert.Equal(0, _scheduler.BlockedJobs);
        Assert.Equal(3, _store.Counters.FinishedJobs);
    }

    [Fact]
    public void AChainOfTenThousand_IsSettledWithTheEndOfItsHead()
    {
        Hello(slots: 1);
        var head = Submit();
        var previous = head;
        for (var i = 0; i < 9_999; i++)
        {
            previous = Submit(DependencyMode.AfterOk, previous);
        }

        Assert.Equal(9_999, _scheduler.BlockedJobs);
        End(head, JobState.Failed);
        Assert.Equal(0, _scheduler.BlockedJobs);
        Assert.Equal(JobState.DependencyFailed, Job(previous).State);
        Assert.Equal(10_000, _store.Counters.FinishedJobs);
    }

    [Fact]
    public void AJobWaitingForTenThousand_IsReleasedByTheLastOfThem()
    {
        var many = _scheduler.Submit(Enumerable.Range(0, 10_000).Select(_ => Spec()).ToList(), Now).Select(j => j.Id).ToArray();
        var join = Submit(DependencyMode.AfterOk, many);
        Assert.StartsWith("waiting for 10,000 jobs", Job(join).Reason);
        Hello(slots: 10_000);
        Assert.Equal(many, Dispatched());
        foreach (var id in many[..^1])
        {
            End(id);
        }

        Assert.Equal((JobState.Blocked, $"waiting for job {many[^1]} to complete"), (Job(join).State, Job(join).Reason));
        End(many[^1]);
        Assert.Equal([join], Dispatched());
    }

    [Fact]
    public void FanIn_WaitsForEvery_FanOut_ReleasesEvery_InOrder()
    {
        Hello(slots: 2);
        var a = Submit();
        var b = Submit();
        var join = Submit(DependencyMode.AfterOk, a, b);
        var x = Submit(DependencyMode.AfterOk, join);
        var y = Submit(DependencyMode.AfterOk, join);
        Assert.Equal([a, b], Dispatched());

        End(a);
        Assert.Equal((JobState.Blocked, $"waiting for job {b} to complete"), (Job(join).State, Job(join).Reason));
        Assert.Empty(Dispatched());
        End(b);
        Assert.Equal([join], Dispatched());
        End(join);
        Assert.Equal([x, y], Dispatched());
    }

    [Fact]
    public void AfterAny_RunsHoweverTheyEnd_AfterNotOk_OnlyIfOneDidNotComplete()
    {
        Hello(slots: 4);
        var a = Submit();
        var b = Submit();
        var any = Submit(DependencyMode.AfterAny, a, b);
        var cleanUp = Submit(DependencyMode.AfterNotOk, a, b);
        var cleanUpNeverNeeded = Submit(DependencyMode.AfterNotOk, a);
        Assert.Equal([a, b], Dispatched());
        Assert.Equal($"waiting for jobs {a}, {b} to end", Job(any).Reason);

        End(a); // completed
        Assert.Equal(JobState.DependencyFailed, Job(cleanUpNeverNeeded).State);
        Assert.Contains("AfterNotOk", Job(cleanUpNeverNeeded).Reason);
        Assert.Equal(JobState.Blocked, Job(cleanUp).State); // waits for b too, even though it may fail
        End(b, JobState.Failed);
        Assert.Equal([any, cleanUp], Dispatched());
    }

    [Fact]
    public void ADependencyThatEndedBeforeTheSubmit_CountsWithItsOutcome()
    {
        Hello(slots: 1);
        var done = Submit();
        var failed = Submit();
        Dispatched();
        End(done);
        End(failed, JobState.Failed);
        Dispatched();

        // Ended: the server tells the scheduler how, from the store.
        JobState? Ended(long id) => _store.Get(id)?.State;
        var runs = _scheduler.Submit([Spec(DependencyMode.AfterOk, done)], Now, endedState: Ended)[0];
        var never = _scheduler.Submit([Spec(DependencyMode.AfterOk, done, failed)], Now, endedState: Ended)[0];
        Assert.Equal(JobState.Running, runs.State);
        Assert.Equal((JobState.DependencyFailed, $"job {failed} it depends on ended Failed"), (never.State, never.Reason));
    }

    [Fact]
    public void Cancelling_ABlockedJob_EndsIt_AndCancellingADependency_BreaksItsDependents()
    {
        Hello(slots: 1);
        var running = Submit();
        var waiting = Submit();
        var onRunning = Submit(DependencyMode.AfterOk, running);
        var onWaiting = Submit(DependencyMode.AfterOk, waiting);
        var anyway = Submit(DependencyMode.AfterAny, waiting);
        Dispatched();

        _scheduler.Cancel([onRunning], Now);
        Assert.Equal(JobState.Cancelled, Job(onRunning).State);
        _scheduler.Cancel([waiting], Now);
        Assert.Equal((JobState.DependencyFailed, $"job {waiting} it depends on ended Cancelled"), (Job(onWaiting).State, Job(onWaiting).Reason));
        Assert.Equal(JobState.Waiting, Job(anyway).State);

        End(running);
        Assert.Equal(JobState.Cancelled, Job(onRunning).State); // not brought back by its dependency's end
        Assert.Equal([anyway], Dispatched());
    }

    [Fact]
    public void BlockedJobs_StayBlockedOverARestart_AndAreReleasedWhenTheirDependencyEnds()
    {
        Hello(slots: 1);
        var a = Submit();
        var b = Submit(DependencyMode.AfterOk, a);
        var c = Submit(DependencyMode.AfterAny, b);
        Dispatched();

        var after = new Scheduler(_store, now: Now);
        Assert.Equal(2, after.BlockedJobs);
        after.WorkerHello(new PeerId("w1b"), new WorkerHello("w1", "host", 1, 1, [new RunningJobRef(a, 1)], "v", false), Now);
        Assert.NotNull(after.JobFinished(new JobFinished("w1", a, 1, JobState.Completed, 0, null, Now, Now)));
        Assert.Equal([b], after.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId));
        Assert.Equal(JobState.Blocked, after.GetJob(c)!.State);
    }
}
