using Goq.Protocol;
using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>What a restarted server does with the jobs it finds running: the store as a crash left it, a new scheduler.</summary>
public sealed class RestartSchedulerTests
{
    private readonly SchedulerHarness _h = new(new SchedulerOptions { RestartGrace = TimeSpan.FromSeconds(15), DeadAfter = TimeSpan.FromSeconds(15) });

    // A hello on the worker's new connection, sent once the worker heard from the scheduler's run (it carries its
    // epoch), or, with epoch null, one from before (queued while the server was down, or sent as the old server's last
    // dispatch was on its way).
    private WorkerHelloOutcome Hello(string peer, string worker, string? epoch, params RunningJobRef[] running) =>
        _h.Hello(worker, 4, running, epoch: epoch ?? "old-run", lastDispatch: 9, peer: peer);

    /// <summary>Jobs 1-3 queued, 2 handed to w1 (committed; the crash came before it was sent), 1 started on w1.</summary>
    private Scheduler CrashWithHandOffs(int maxAttempts = 1)
    {
        _h.Submit([Spec(maxAttempts: maxAttempts), Spec(maxAttempts: maxAttempts), Spec(maxAttempts: maxAttempts)]);
        _h.Hello("w1", 2);
        var dispatched = _h.Messages<DispatchJob>();
        Assert.Equal([1L, 2L], dispatched.Select(d => d.JobId));
        _h.Start("w1", 1, attempt: 1, pid: 4242);
        return _h.Restart();
    }

    [Fact]
    public void AHandOffTheWorkerDoesNotList_GoesBackToItsPlace_AtOnce_WithoutSpendingAnAttempt()
    {
        var after = CrashWithHandOffs();
        Assert.Equal(1, after.WaitingJobs); // job 3; jobs 1 and 2 wait for their worker

        _h.Now = Epoch.AddSeconds(1);
        var outcome = Hello("w1-again", "w1", after.Epoch, new RunningJobRef(1, 1));
        Assert.False(outcome.FromEarlierRun);
        var job2 = after.GetJob(2)!;
        Assert.Equal(JobState.Running, job2.State); // at once, not after the grace: re-dispatched in order, before job 3
        Assert.Equal(1, job2.Attempts);
        Assert.Equal([2L, 3L], _h.Messages<DispatchJob>().Select(d => d.JobId));
        Assert.Equal(0, _h.Store.Counters.DeadWorkerResubmits);
        Assert.Equal(JobState.Running, after.GetJob(1)!.State); // listed: still its worker's
    }

    [Fact]
    public void AJobRunningAtTheRestart_ThatEndsAndRunsAgainWithinTheGrace_IsNotQueuedAgainWhenTheGraceIsOver()
    {
        _h.Submit(Spec(retries: 1));
        _h.Hello("w1", 1);
        Assert.Single(_h.Messages<DispatchJob>());
        _h.Start("w1", 1, attempt: 1);
        var after = _h.Restart(); // job 1 waits for its worker through the grace

        _h.Now = Epoch.AddSeconds(1);
        Assert.NotNull(_h.Finish("w1", 1, attempt: 1, JobState.Failed)); // its end, before the worker's hello: a retry
        Hello("w2", "w2", after.Epoch);
        var retry = Assert.Single(_h.Messages<DispatchJob>());
        Assert.Equal((1L, 2), (retry.JobId, retry.Attempt));

        _h.Now = Epoch.AddSeconds(16);
        _h.Tick(); // the grace is over: the run on w2 is not an orphan of the restart
        var job = after.GetJob(1)!;
        Assert.Equal((JobState.Running, "w2", 2), (job.State, job.WorkerId, job.Attempts));
        Assert.Empty(_h.Messages<DispatchJob>());
    }

    [Fact]
    public void AfterTheGrace_AHandOffWhoseWorkerNeverCameBack_CountsAsAnAttempt_ConfirmedOrNot()
    {
        // Its start may have been reported by a worker that died with the report (a host lost with the server): giving
        // the attempt back would run the job twice under one attempt, and a MaxAttempts 1 job twice.
        var after = CrashWithHandOffs();
        _h.Now = Epoch.AddSeconds(16);
        _h.Tick(); // the worker never came back
        foreach (var id in new long[] { 1, 2 })
        {
            var lost = _h.Store.Get(id)!; // ended: the store holds it, no longer the scheduler
            Assert.Equal((JobState.Failed, 1), (lost.State, lost.Attempts)); // MaxAttempts 1 spent
            Assert.StartsWith("its worker was lost", lost.Reason);
        }

        Assert.Equal(2, _h.Store.Counters.DeadWorkerResubmits);
        _h.Now = Epoch.AddSeconds(17);
        Hello("w2", "w2", after.Epoch);
        Assert.Equal([3L], _h.Messages<DispatchJob>().Select(d => d.JobId));
    }

    [Fact]
    public void AfterTheGrace_AHandOffWhoseWorkerNeverCameBack_RunsAgainUnderANewAttempt()
    {
        var after = CrashWithHandOffs(maxAttempts: 2);
        _h.Now = Epoch.AddSeconds(16);
        _h.Tick();
        Assert.Equal((JobState.Waiting, 1), (after.GetJob(2)!.State, after.GetJob(2)!.Attempts));
        _h.Now = Epoch.AddSeconds(17);
        Hello("w2", "w2", after.Epoch);
        var again = _h.Messages<DispatchJob>();
        Assert.Equal([(1L, 2), (2L, 2), (3L, 1)], again.Select(d => (d.JobId, d.Attempt))); // the lost ones first, as lost runs are
    }

    [Fact]
    public void AHelloFromBeforeTheRestart_ProvesNothingByWhatItLeavesOut_TheWorkersNextOneDoes()
    {
        var after = CrashWithHandOffs();
        // Sent before job 2's hand-off reached the worker, and delivered to the new server: job 2 stays the worker's.
        _h.Now = Epoch.AddSeconds(1);
        var early = Hello("w1-again", "w1", null, new RunningJobRef(1, 1));
        Assert.True(early.FromEarlierRun); // the server answers it with its epoch
        Assert.Equal(JobState.Running, after.GetJob(2)!.State);
        Assert.Equal(1, after.OrphanedJobs);
        Assert.Equal([3L], _h.Messages<DispatchJob>().Select(d => d.JobId)); // job 3 to the slot it has free

        // The worker does hold job 2: its hello made after it heard from us says so, and the job stays where it runs.
        _h.Now = Epoch.AddSeconds(1.1);
        Hello("w1-again", "w1", after.Epoch, new RunningJobRef(1, 1), new RunningJobRef(2, 1), new RunningJobRef(3, 1));
        Assert.Equal(0, after.OrphanedJobs);
        Assert.Equal((JobState.Running, "w1", 1), (after.GetJob(2)!.State, after.GetJob(2)!.WorkerId, after.GetJob(2)!.Attempts));
        Assert.Empty(_h.Messages<DispatchJob>());
    }

    [Fact]
    public void TheGraceCountsFromWhenTheServerListens_NotFromWhenItReadTheStore()
    {
        var after = CrashWithHandOffs(maxAttempts: 2);
        _h.Now = Epoch.AddSeconds(10);
        after.Serving(_h.Now); // a slow start: the store took ten seconds to read
        _h.Now = Epoch.AddSeconds(16);
        _h.Tick();
        Assert.Equal(2, after.OrphanedJobs);
        Assert.Equal(JobState.Running, after.GetJob(1)!.State);

        _h.Now = Epoch.AddSeconds(25.5);
        _h.Tick();
        Assert.Equal(0, after.OrphanedJobs);
        Assert.Equal(JobState.Waiting, after.GetJob(2)!.State);
    }

    [Fact]
    public void AWorkerBackAfterTheGrace_KeepsTheJobsItStillHolds_WhileNobodyHasTakenThem()
    {
        var after = CrashWithHandOffs(maxAttempts: 3);
        _h.Now = Epoch.AddSeconds(16);
        _h.Tick(); // the worker was slow to come back: its jobs were queued again
        Assert.Equal((JobState.Waiting, 1), (after.GetJob(1)!.State, after.GetJob(1)!.History.Length));
        Assert.Equal(1, after.GetJob(2)!.Attempts); // counted as lost while its worker was away (see AfterTheGrace_...)

        _h.Now = Epoch.AddSeconds(17);
        Hello("w1-again", "w1", after.Epoch, new RunningJobRef(1, 1), new RunningJobRef(2, 1));
        var started = after.GetJob(1)!;
        Assert.Equal((JobState.Running, "w1", 1), (started.State, started.WorkerId, started.Attempts));
        Assert.Empty(started.History); // the attempt was not lost after all
        Assert.Equal(Epoch, started.StartedAt);
        Assert.Equal((JobState.Running, "w1", 1), (after.GetJob(2)!.State, after.GetJob(2)!.WorkerId, after.GetJob(2)!.Attempts));
        Assert.Equal([3L], _h.Messages<DispatchJob>().Select(d => d.JobId));
    }

    [Fact]
    public void AJobTakenByAnotherWorker_IsNotGivenBack_ToTheOneThatCameBackLate()
    {
        var after = CrashWithHandOffs(maxAttempts: 3);
        _h.Now = Epoch.AddSeconds(16);
        _h.Tick();
        _h.Now = Epoch.AddSeconds(16.5);
        _h.Hello("w2", epoch: after.Epoch);
        Assert.Equal([1L], _h.Messages<DispatchJob>().Select(d => d.JobId));

        _h.Now = Epoch.AddSeconds(17);
        var late = Hello("w1-again", "w1", after.Epoch, new RunningJobRef(1, 1));
        Assert.Equal([new RunningJobRef(1, 1)], late.Foreign); // it runs on w2 now, under attempt 2
        Assert.Equal(("w2", 2), (after.GetJob(1)!.WorkerId, after.GetJob(1)!.Attempts));
    }
}
