using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>What a restarted server does with the jobs it finds running: the store as a crash left it, a new scheduler.</summary>
public sealed class RestartSchedulerTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private static readonly SchedulerOptions Options = new() { RestartGrace = TimeSpan.FromSeconds(15), DeadAfter = TimeSpan.FromSeconds(15) };
    private readonly InMemoryJobStore _store = new();

    private static JobSpec Spec(int maxAttempts = 1) => new() { Kind = JobKind.Shell, Command = "true", MaxAttempts = maxAttempts };

    // A hello sent once the worker heard from the scheduler's run (it carries its epoch), or, with epoch null, one from
    // before (queued while the server was down, or sent as the old server's last dispatch was on its way).
    private static WorkerHello Hello(string worker, string? epoch, params RunningJobRef[] running) => new(worker, "host", 1, 4, running, "v", false, epoch ?? "old-run", 9);

    private static List<DispatchJob> Dispatches(Scheduler scheduler) =>
        scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().ToList();

    /// <summary>Jobs 1-3 queued, 2 handed to w1 (committed; the crash came before it was sent), 1 started on w1.</summary>
    private Scheduler CrashWithHandOffs(int maxAttempts = 1)
    {
        var before = new Scheduler(_store, Options, Now);
        before.Submit([Spec(maxAttempts), Spec(maxAttempts), Spec(maxAttempts)], Now);
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

        var outcome = after.WorkerHello(new PeerId("w1-again"), Hello("w1", after.Epoch, new RunningJobRef(1, 1)), Now.AddSeconds(1));
        Assert.False(outcome.FromEarlierRun);
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

        after.WorkerHello(new PeerId("w2"), Hello("w2", after.Epoch), Now.AddSeconds(17));
        var again = Dispatches(after);
        Assert.Equal([2L, 3L], again.Select(d => d.JobId)); // job 2 before job 3: its own place in the queue
        Assert.Equal(1, again[0].Attempt);
    }

    [Fact]
    public void AHelloFromBeforeTheRestart_ProvesNothingByWhatItLeavesOut_TheWorkersNextOneDoes()
    {
        var after = CrashWithHandOffs();
        // Sent before job 2's hand-off reached the worker, and delivered to the new server: job 2 stays the worker's.
        var early = after.WorkerHello(new PeerId("w1-again"), Hello("w1", null, new RunningJobRef(1, 1)), Now.AddSeconds(1));
        Assert.True(early.FromEarlierRun); // the server answers it with its epoch
        Assert.Equal(JobState.Running, after.GetJob(2)!.State);
        Assert.Equal(1, after.OrphanedJobs);
        Assert.Equal([3L], Dispatches(after).Select(d => d.JobId)); // job 3 to the slot it has free

        // The worker does hold job 2: its hello made after it heard from us says so, and the job stays where it runs.
        after.WorkerHello(new PeerId("w1-again"), Hello("w1", after.Epoch, new RunningJobRef(1, 1), new RunningJobRef(2, 1), new RunningJobRef(3, 1)), Now.AddSeconds(1.1));
        Assert.Equal(0, after.OrphanedJobs);
        Assert.Equal((JobState.Running, "w1", 1), (after.GetJob(2)!.State, after.GetJob(2)!.WorkerId, after.GetJob(2)!.Attempts));
        Assert.Empty(Dispatches(after));
    }

    [Fact]
    public void TheGraceCountsFromWhenTheServerListens_NotFromWhenItReadTheStore()
    {
        var after = CrashWithHandOffs();
        after.Serving(Now.AddSeconds(10)); // a slow start: the store took ten seconds to read
        after.Tick(Now.AddSeconds(16));
        Assert.Equal(2, after.OrphanedJobs);
        Assert.Equal(JobState.Running, after.GetJob(1)!.State);

        after.Tick(Now.AddSeconds(25.5));
        Assert.Equal(0, after.OrphanedJobs);
        Assert.Equal(JobState.Waiting, after.GetJob(2)!.State);
    }

    [Fact]
    public void AWorkerBackAfterTheGrace_KeepsTheJobsItStillHolds_WhileNobodyHasTakenThem()
    {
        var after = CrashWithHandOffs(maxAttempts: 3);
        after.Tick(Now.AddSeconds(16)); // the worker was slow to come back: its jobs were queued again
        Assert.Equal((JobState.Waiting, 1), (after.GetJob(1)!.State, after.GetJob(1)!.History.Length));
        Assert.Equal(0, after.GetJob(2)!.Attempts);

        after.WorkerHello(new PeerId("w1-again"), Hello("w1", after.Epoch, new RunningJobRef(1, 1), new RunningJobRef(2, 1)), Now.AddSeconds(17));
        var started = after.GetJob(1)!;
        Assert.Equal((JobState.Running, "w1", 1), (started.State, started.WorkerId, started.Attempts));
        Assert.Empty(started.History); // the attempt was not lost after all
        Assert.Equal(Now, started.StartedAt);
        Assert.Equal((JobState.Running, "w1", 1), (after.GetJob(2)!.State, after.GetJob(2)!.WorkerId, after.GetJob(2)!.Attempts));
        Assert.Equal([3L], Dispatches(after).Select(d => d.JobId));
    }

    [Fact]
    public void AJobTakenByAnotherWorker_IsNotGivenBack_ToTheOneThatCameBackLate()
    {
        var after = CrashWithHandOffs(maxAttempts: 3);
        after.Tick(Now.AddSeconds(16));
        after.WorkerHello(new PeerId("w2"), new WorkerHello("w2", "host", 1, 1, [], "v", false, after.Epoch), Now.AddSeconds(16.5));
        Assert.Equal([1L], Dispatches(after).Select(d => d.JobId));

        var late = after.WorkerHello(new PeerId("w1-again"), Hello("w1", after.Epoch, new RunningJobRef(1, 1)), Now.AddSeconds(17));
        Assert.Equal([new RunningJobRef(1, 1)], late.Foreign); // it runs on w2 now, under attempt 2
        Assert.Equal(("w2", 2), (after.GetJob(1)!.WorkerId, after.GetJob(1)!.Attempts));
    }
}
