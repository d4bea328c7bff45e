using Goq.Protocol;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

public sealed class SchedulerTests
{
    private readonly SchedulerHarness _h = new();

    [Fact]
    public void Submit_AssignsConsecutiveIdsFromOne_AndQueuesInOrder()
    {
        var jobs = _h.Submit([Spec(), Spec(), Spec()]);
        Assert.Equal([1L, 2L, 3L], jobs.Select(j => j.Id));
        Assert.All(jobs, j => Assert.Equal(JobState.Waiting, j.State));
        Assert.Equal(3, _h.Scheduler.WaitingJobs);
        Assert.Equal(4, _h.Store.NextJobId);
        Assert.Empty(_h.Dispatches());
    }

    [Fact]
    public void Dispatch_HappensTheMomentAJobAndAnIdleSlotBothExist()
    {
        _h.Hello("w1", slots: 1);
        Assert.Equal(1, _h.Scheduler.IdleSlots);
        var job = _h.Submit(Spec());
        var dispatch = Assert.Single(_h.Dispatches());
        Assert.Equal(Peer("w1"), dispatch.To);
        Assert.Equal(job.Id, dispatch.Job.JobId);
        Assert.Equal(1, dispatch.Job.Attempt);
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal("w1", job.WorkerId);
        Assert.Equal(0, _h.Scheduler.IdleSlots);
    }

    [Fact]
    public void Dispatch_IsFifo_AndNeverExceedsFreeSlots()
    {
        _h.Submit([Spec("a"), Spec("b"), Spec("c")]);
        _h.Hello("w1", slots: 2);
        Assert.Equal([1L, 2L], _h.Dispatches().Select(d => d.Job.JobId));
        Assert.Equal(1, _h.Scheduler.WaitingJobs);

        _h.Finish("w1", 1);
        Assert.Equal(3, Assert.Single(_h.Dispatches()).Job.JobId);
        Assert.Equal(0, _h.Scheduler.WaitingJobs);
    }

    [Fact]
    public void Workers_TakeTurns_WhenBothHaveFreeSlots()
    {
        _h.Hello("w1", slots: 2);
        _h.Hello("w2", slots: 2);
        _h.Submit([Spec(), Spec(), Spec(), Spec()]);
        Assert.Equal(["w1", "w2", "w1", "w2"], _h.Dispatches().Select(d => d.To.Value));
    }

    [Fact]
    public void Finish_RecordsResult_CountsIt_AndFreesTheSlot()
    {
        _h.Hello("w1", slots: 1);
        _h.Submit(Spec());
        _h.Dispatches();
        var job = _h.Finish("w1", 1, state: JobState.Failed);
        Assert.NotNull(job);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(1, job.ExitCode);
        Assert.Equal(1, _h.Store.Counters.FinishedJobs);
        Assert.Equal(1, _h.Scheduler.IdleSlots);
        Assert.Equal(0, _h.Scheduler.RunningJobs);
    }

    [Fact]
    public void Reports_FromAnotherWorkerOrAttempt_AreIgnored()
    {
        _h.Hello("w1", slots: 1);
        _h.Hello("w2", slots: 1);
        _h.Submit(Spec());
        _h.Dispatches();
        Assert.Null(_h.Finish("w2", 1));
        Assert.Null(_h.Finish("w1", 1, attempt: 2));
        Assert.Null(_h.Scheduler.OutputWriter("w2", 1, 1));
        Assert.Equal(1, _h.Scheduler.OutputWriter("w1", 1, 1)?.Id);
        Assert.NotNull(_h.Finish("w1", 1));
        Assert.Null(_h.Finish("w1", 1)); // exactly once
        Assert.Equal(1, _h.Store.Counters.FinishedJobs);
    }

    [Fact]
    public void WorkerGone_PutsItsJobsBackAtTheFront_InOrder()
    {
        _h.Hello("w1", slots: 2);
        _h.Submit([Spec(), Spec(), Spec()]);
        _h.Dispatches();
        _h.Gone("w1");
        Assert.Equal(3, _h.Scheduler.WaitingJobs);
        _h.Hello("w2", slots: 3);
        var again = _h.Dispatches();
        Assert.Equal([1L, 2L, 3L], again.Select(d => d.Job.JobId));
        Assert.Equal([2, 2, 1], again.Select(d => d.Job.Attempt));
    }

    [Fact]
    public void OneShotWorker_GetsExactlyOneJob()
    {
        _h.Hello("w1", slots: 4, oneShot: true);
        _h.Submit([Spec(), Spec()]);
        Assert.Single(_h.Dispatches());
        _h.Finish("w1", 1);
        Assert.Empty(_h.Dispatches());
        Assert.Equal(0, _h.Scheduler.IdleSlots);
    }

    [Fact]
    public void Hello_AfterReconnect_CountsRunningJobs_AgainstSlots()
    {
        _h.Hello("w1", slots: 2);
        _h.Submit([Spec(), Spec(), Spec()]);
        _h.Dispatches();
        _h.Hello("w1", slots: 2, running: [new(1, 1), new(2, 1)]);
        Assert.Empty(_h.Dispatches());
        Assert.Equal(0, _h.Scheduler.IdleSlots);
    }

    [Fact]
    public void Watch_WatchesTheActiveJobs_ReturnsTheOthers_AndNotifiesWhenTheyEnd()
    {
        _h.Hello("w1", slots: 1);
        _h.Submit([Spec(), Spec()]);
        _h.Dispatches();
        _h.Finish("w1", 1);
        _h.Effects();

        // The ended one and the unknown one are the server's to look up (JobQueries); the scheduler holds neither.
        Assert.Equal([1L, 99L], _h.Scheduler.Watch(Peer("c"), 77, [1, 2, 99]));

        _h.Finish("w1", 2);
        var notice = Assert.Single(_h.Effects(), e => e.Message is JobFinishedNotice);
        Assert.Equal(Peer("c"), notice.To);
        Assert.Equal(77, notice.Rid);
        Assert.Equal(2, Assert.Single(((JobFinishedNotice)notice.Message).Jobs).Id);
    }

    [Fact]
    public void Unwatch_StopsNotices()
    {
        _h.Hello("w1", slots: 1);
        _h.Submit(Spec());
        _h.Dispatches();
        _h.Scheduler.Watch(Peer("c"), 5, [1]);
        _h.Scheduler.Unwatch(Peer("c"), 5);
        _h.Finish("w1", 1);
        Assert.DoesNotContain(_h.Effects(), e => e.Message is JobFinishedNotice);
    }

    [Fact]
    public void StopIdleWorkers_TellsOnlyIdleOnes_AndTheirSlotsVanish()
    {
        _h.Hello("busy", slots: 3);
        _h.Submit(Spec());
        Assert.Equal("busy", Assert.Single(_h.Dispatches()).To.Value);
        _h.Hello("idle1", slots: 1);
        _h.Hello("idle2", slots: 2);
        Assert.Equal(5, _h.Scheduler.IdleSlots);

        var reply = _h.Scheduler.StopWorkers(idle: true, ids: null, drain: false, _h.Now);
        Assert.Equal(["idle1", "idle2"], reply.Stopped.Select(w => w.Id).Order());
        Assert.All(_h.Effects(), e => Assert.IsType<ShutdownWorker>(e.Message));
        Assert.Equal(2, _h.Scheduler.IdleSlots); // the busy worker keeps its two free slots
        Assert.Equal(["busy"], _h.Scheduler.GetWorkers().Select(w => w.Id));
    }

    [Fact]
    public void RepeatedHello_AsHeartbeat_ChangesNothing()
    {
        _h.Hello("w1", slots: 2);
        _h.Submit(Spec());
        var first = Assert.Single(_h.Dispatches());
        _h.Hello("w1", slots: 2); // a heartbeat sent before the dispatch arrived: it must not free the slot
        _h.Hello("w1", slots: 2, running: [new(first.Job.JobId, 1)]);
        Assert.Empty(_h.Dispatches());
        Assert.Equal(1, _h.Scheduler.IdleSlots);
        Assert.Single(_h.Scheduler.GetWorkers());
    }

    [Fact]
    public void JobsTheServerDoesNotKnow_StillTakeTheWorkersSlots_UntilTheyEnd()
    {
        // After a restart that lost its state, the server hears of jobs it never dispatched.
        _h.Hello("w1", slots: 2, running: [new(41, 1), new(42, 1)]);
        Assert.Equal(0, _h.Scheduler.IdleSlots);
        _h.Submit(Spec());
        Assert.Empty(_h.Dispatches());

        Assert.Null(_h.Finish("w1", 41));
        Assert.Equal(1, Assert.Single(_h.Dispatches()).Job.JobId);
    }

    [Fact]
    public void ADispatchTheWorkerNeverGot_IsRequeued_OnceItHasSeenALaterOne()
    {
        _h.Hello("w1", slots: 2);
        _h.Submit(Spec());
        var first = Assert.Single(_h.Dispatches()).Job;
        _h.Hello("w1", slots: 2); // says nothing about our dispatches (no epoch): the job stays
        Assert.Equal(JobState.Running, _h.Scheduler.GetJob(1)!.State);

        _h.Submit(Spec());
        var second = Assert.Single(_h.Dispatches()).Job;
        Assert.Equal(first.Epoch, second.Epoch);
        Assert.Equal(first.Seq + 1, second.Seq);

        // The worker got the second dispatch but lists only it: the first never arrived.
        _h.Hello("w1", slots: 2, running: [new(2, 1)], epoch: second.Epoch, lastDispatch: second.Seq);
        var again = Assert.Single(_h.Dispatches()).Job;
        Assert.Equal(1, again.JobId);
        Assert.Equal(1, again.Attempt); // a hand-off that never arrived is not an attempt
        Assert.Equal(0, _h.Store.Counters.DeadWorkerResubmits);
    }

    [Fact]
    public void HellosFromBeforeARestart_NeverMakeADispatchLookLost()
    {
        _h.Hello("w1", slots: 1);
        _h.Submit(Spec());
        _h.Dispatches();
        _h.Hello("w1", slots: 1, epoch: "another-server-run", lastDispatch: 99);
        Assert.Equal(JobState.Running, _h.Scheduler.GetJob(1)!.State);
        Assert.Empty(_h.Dispatches());
    }

    [Fact]
    public void AWorkerWronglyThoughtDead_GetsItsJobBack_IfNobodyTookItYet()
    {
        _h.Hello("w1", slots: 1);
        _h.Submit(Spec());
        _h.Dispatches();
        _h.Gone("w1", dead: true);
        Assert.Equal(1, _h.Scheduler.WaitingJobs);
        _h.Hello("w1", slots: 1, running: [new(1, 1)]);
        Assert.Equal(0, _h.Scheduler.WaitingJobs);
        Assert.Empty(_h.Dispatches());
        var job = _h.Scheduler.GetJob(1)!;
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.NotNull(_h.Finish("w1", 1));
    }

    [Fact]
    public void TheEndOfARunQueuedAgainFromADeadWorker_IsTakenWhileNobodyTookTheJob_AndTheJobDoesNotRunAgain()
    {
        // A keeper died with the end of its job in its ledger; the server declared its worker dead and queued the job
        // again; the next keeper on the host reports that end for the dead worker before any worker took the job.
        _h.Hello("dead", slots: 1);
        _h.Submit(Spec());
        _h.Dispatches();
        _h.Start("dead", 1, attempt: 1, pid: 100);
        _h.Gone("dead", dead: true);
        Assert.Equal(1, _h.Scheduler.WaitingJobs);

        var ended = _h.Finish("dead", 1, attempt: 1, state: JobState.Failed);
        Assert.NotNull(ended);
        Assert.Equal((JobState.Failed, 1, 1, "dead"), (ended.State, ended.ExitCode, ended.Attempts, ended.WorkerId));
        Assert.Empty(ended.History);
        Assert.Equal(0, _h.Scheduler.WaitingJobs);
        Assert.Equal(1, _h.Store.Counters.DeadWorkerResubmits); // a counter: the re-queue happened, and stays counted
        _h.Hello("next", slots: 1);
        Assert.Empty(_h.Dispatches()); // nothing runs it again
    }

    [Fact]
    public void TheEndOfARunQueuedAgainFromADeadWorker_IsStale_OnceTheJobRunsElsewhere()
    {
        _h.Hello("dead", slots: 1);
        _h.Submit(Spec());
        _h.Dispatches();
        _h.Gone("dead", dead: true);
        _h.Hello("other", slots: 1);
        Assert.Equal(2, Assert.Single(_h.Dispatches()).Job.Attempt);
        Assert.Null(_h.Finish("dead", 1, attempt: 1));
        var job = _h.Scheduler.GetJob(1)!;
        Assert.Equal((JobState.Running, "other", 2), (job.State, job.WorkerId, job.Attempts));
        Assert.NotNull(_h.Finish("other", 1, attempt: 2));
    }

    [Fact]
    public void GetJob_IsOnlyForTheJobsItHolds()
    {
        _h.Hello("w1", slots: 1);
        _h.Submit([Spec(), Spec()]);
        _h.Dispatches();
        Assert.Equal(JobState.Running, _h.Scheduler.GetJob(1)!.State);
        Assert.Equal(JobState.Waiting, _h.Scheduler.GetJob(2)!.State);
        _h.Finish("w1", 1);
        Assert.Null(_h.Scheduler.GetJob(1)); // ended: the store's (JobQueries.Job)
        Assert.Null(_h.Scheduler.GetJob(5));
    }

    [Fact]
    public void AJobOfHigherPriority_OvertakesTheQueue_AndSetPriorityMovesAWaitingJob()
    {
        _h.Hello("w1", slots: 1);
        _h.Submit(Spec("running"));
        _h.Submit([Spec("low-a"), Spec("low-b")]);
        var urgent = _h.Submit(Spec("urgent", priority: 5));
        Assert.Equal((5, JobState.Waiting), (urgent.Priority, urgent.State));
        Assert.Equal([1L], _h.Dispatches().Select(d => d.Job.JobId));

        var reply = _h.Scheduler.SetPriority([3, 1, 99], 9, _h.Now); // 3 waits; 1 runs; 99 is not this scheduler's
        Assert.Equal(3, Assert.Single(reply.Changed).Id);
        Assert.Equal(1, Assert.Single(reply.Started).Id);
        Assert.Equal(99, Assert.Single(reply.Unknown));

        _h.Finish("w1", 1);
        Assert.Equal([3L], _h.Dispatches().Select(d => d.Job.JobId));
        _h.Finish("w1", 3);
        Assert.Equal([4L], _h.Dispatches().Select(d => d.Job.JobId));
        _h.Finish("w1", 4);
        Assert.Equal([2L], _h.Dispatches().Select(d => d.Job.JobId));
    }
}
