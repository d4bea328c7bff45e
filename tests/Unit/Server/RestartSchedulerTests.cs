using Goq.Protocol;
using Goq.Server;
using Goq.Storage;

namespace Goq.Tests.Server;

/// <summary>What a restarted server does with the jobs it finds running: the store as a crash left it, a new scheduler.</summary>
public sealed class RestartSchedulerTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private static readonly SchedulerOptions Options = new() { RestartGrace = TimeSpan.FromSeconds(15), DeadAfter = TimeSpan.FromSeconds(15) };
    private readonly InMemoryJobStore _store = new();

    private static JobSpec Spec(int maxAttempts = 1) => new() { Kind = JobKind.Shell, Command = "true", MaxAttempts = maxAttempts };

    private static WorkerHello Hello(string worker, params RunningJobRef[] running) => new(worker, "host", 1, 4, running, "v", false, "old-run", 9);

    private static List<DispatchJob> Dispatches(Scheduler scheduler) =>
        scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().ToList();

    /// <summary>Jobs 1-3 queued, 2 handed to w1 (committed; the crash came before it was sent), 1 started on w1.</summary>
    private Scheduler CrashWithHandOffs()
    {
        var before = new Scheduler(_store, Options, Now);
        before.Submit([Spec(), Spec(), Spec()], Now);
        before.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 2, [], "v", false), Now);
        var dispatched = Dispatches(before);
        Assert.Equal([1L, 2L], dispatched.Select(d => d.JobId));
        before.JobStarted(new JobStarted("w1", 1, 1, 4242, Now));
        return new Scheduler(_store, Options, Now);
    }

    [Fact]
    public void AHandOffTheWorkerDoesNotList_GoesBackToItsPlace_AtOnce_WithoutSpendingAnAttempt()
    {
        var after = CrashWithHandOffs();
        Assert.Equal(1, after.WaitingJobs); // job 3; jobs 1 and 2 wait for their worker

        after.WorkerHello(new PeerId("w1-again"), Hello("w1", new RunningJobRef(1, 1)), Now.AddSeconds(1));
        var job2 = after.GetJob(2)!;
        Assert.Equal(JobState.Running, job2.State); // at once, not after the grace: re-dispatched in order, before job 3
        Assert.Equal(1, job2.Attempts);
        Assert.Equal([2L, 3L], Dispatches(after).Select(d => d.JobId));
        Assert.Equal(0, _store.Counters.DeadWorkerResubmits);
        Assert.Equal(JobState.Running, after.GetJob(1)!.State); // listed: still its worker's
    }

    [Fact]
    public void AfterTheGrace_AnUnconfirmedHandOffLosesNoAttempt_AConfirmedOneDoes()
    {
        var after = CrashWithHandOffs();
        after.Tick(Now.AddSeconds(16)); // the worker never came back
        var started = _store.Get(1)!; // ended: the store holds it, no longer the scheduler
        var unconfirmed = after.GetJob(2)!;
        Assert.Equal(JobState.Waiting, unconfirmed.State);
        Assert.Equal(0, unconfirmed.Attempts);
        Assert.Equal(JobState.Failed, started.State); // MaxAttempts 1 spent on a run that started
        Assert.Equal(1, _store.Counters.DeadWorkerResubmits);

        after.WorkerHello(new PeerId("w2"), Hello("w2"), Now.AddSeconds(17));
        var again = Dispatches(after);
        Assert.Equal([2L, 3L], again.Select(d => d.JobId)); // job 2 before job 3: its own place in the queue
        Assert.Equal(1, again[0].Attempt);
    }
}
