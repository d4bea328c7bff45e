using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

public sealed class SchedulerTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;

    public SchedulerTests() => _scheduler = new Scheduler(_store);

    private static JobSpec Spec(string command = "true") => new() { Kind = JobKind.Shell, Command = command };

    private static PeerId Peer(string name) => new(name);

    private void Hello(string worker, int slots, bool oneShot = false, params RunningJobRef[] running) =>
        _scheduler.WorkerHello(Peer(worker), new WorkerHello(worker, "host", 1, slots, running, "v", oneShot), Now);

    private List<(PeerId To, DispatchJob Job)> Dispatches() =>
        _scheduler.TakeEffects().Where(e => e.Message is DispatchJob).Select(e => (e.To, (DispatchJob)e.Message)).ToList();

    private JobInfo? Finish(string worker, long id, int attempt = 1, JobState state = JobState.Completed) =>
        _scheduler.JobFinished(new JobFinished(worker, id, attempt, state, state == JobState.Completed ? 0 : 1, null, Now, Now));

    [Fact]
    public void Submit_AssignsConsecutiveIdsFromOne_AndQueuesInOrder()
    {
        var jobs = _scheduler.Submit([Spec(), Spec(), Spec()], Now);
        Assert.Equal([1L, 2L, 3L], jobs.Select(j => j.Id));
        Assert.All(jobs, j => Assert.Equal(JobState.Waiting, j.State));
        Assert.Equal(3, _scheduler.WaitingJobs);
        Assert.Equal(4, _store.NextJobId);
        Assert.Empty(Dispatches());
    }

    [Fact]
    public void Dispatch_HappensTheMomentAJobAndAnIdleSlotBothExist()
    {
        Hello("w1", slots: 1);
        Assert.Equal(1, _scheduler.IdleSlots);
        var job = _scheduler.Submit([Spec()], Now)[0];
        var dispatch = Assert.Single(Dispatches());
        Assert.Equal(Peer("w1"), dispatch.To);
        Assert.Equal(job.Id, dispatch.Job.JobId);
        Assert.Equal(1, dispatch.Job.Attempt);
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal("w1", job.WorkerId);
        Assert.Equal(0, _scheduler.IdleSlots);
    }

    [Fact]
    public void Dispatch_IsFifo_AndNeverExceedsFreeSlots()
    {
        _scheduler.Submit([Spec("a"), Spec("b"), Spec("c")], Now);
        Hello("w1", slots: 2);
        Assert.Equal([1L, 2L], Dispatches().Select(d => d.Job.JobId));
        Assert.Equal(1, _scheduler.WaitingJobs);

        Finish("w1", 1);
        Assert.Equal(3, Assert.Single(Dispatches()).Job.JobId);
        Assert.Equal(0, _scheduler.WaitingJobs);
    }

    [Fact]
    public void Workers_TakeTurns_WhenBothHaveFreeSlots()
    {
        Hello("w1", slots: 2);
        Hello("w2", slots: 2);
        _scheduler.Submit([Spec(), Spec(), Spec(), Spec()], Now);
        Assert.Equal(["w1", "w2", "w1", "w2"], Dispatches().Select(d => d.To.Value));
    }

    [Fact]
    public void Finish_RecordsResult_CountsIt_AndFreesTheSlot()
    {
        Hello("w1", slots: 1);
        _scheduler.Submit([Spec()], Now);
        Dispatches();
        var job = Finish("w1", 1, state: JobState.Failed);
        Assert.NotNull(job);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(1, job.ExitCode);
        Assert.Equal(1, _store.Counters.FinishedJobs);
        Assert.Equal(1, _scheduler.IdleSlots);
        Assert.Equal(0, _scheduler.RunningJobs);
    }

    [Fact]
    public void Reports_FromAnotherWorkerOrAttempt_AreIgnored()
    {
        Hello("w1", slots: 1);
        Hello("w2", slots: 1);
        _scheduler.Submit([Spec()], Now);
        Dispatches();
        Assert.Null(Finish("w2", 1));
        Assert.Null(Finish("w1", 1, attempt: 2));
        Assert.Null(_scheduler.OutputWriter("w2", 1, 1));
        Assert.Equal(1, _scheduler.OutputWriter("w1", 1, 1)?.Id);
        Assert.NotNull(Finish("w1", 1));
        Assert.Null(Finish("w1", 1)); // exactly once
        Assert.Equal(1, _store.Counters.FinishedJobs);
    }

    [Fact]
    public void WorkerGone_PutsItsJobsBackAtTheFront_InOrder()
    {
        Hello("w1", slots: 2);
        _scheduler.Submit([Spec(), Spec(), Spec()], Now);
        Dispatches();
        _scheduler.WorkerGone("w1");
        Assert.Equal(3, _scheduler.WaitingJobs);
        Hello("w2", slots: 3);
        var again = Dispatches();
        Assert.Equal([1L, 2L, 3L], again.Select(d => d.Job.JobId));
        Assert.Equal([2, 2, 1], again.Select(d => d.Job.Attempt));
    }

    [Fact]
    public void OneShotWorker_GetsExactlyOneJob()
    {
        Hello("w1", slots: 4, oneShot: true);
        _scheduler.Submit([Spec(), Spec()], Now);
        Assert.Single(Dispatches());
        Finish("w1", 1);
        Assert.Empty(Dispatches());
        Assert.Equal(0, _scheduler.IdleSlots);
    }

    [Fact]
    public void Hello_AfterReconnect_CountsRunningJobs_AgainstSlots()
    {
        Hello("w1", slots: 2);
        _scheduler.Submit([Spec(), Spec(), Spec()], Now);
        Dispatches();
        Hello("w1", slots: 2, oneShot: false, new RunningJobRef(1, 1), new RunningJobRef(2, 1));
        Assert.Empty(Dispatches());
        Assert.Equal(0, _scheduler.IdleSlots);
    }

    [Fact]
    public void Watch_WatchesTheActiveJobs_ReturnsTheOthers_AndNotifiesWhenTheyEnd()
    {
        Hello("w1", slots: 1);
        _scheduler.Submit([Spec(), Spec()], Now);
        Dispatches();
        Finish("w1", 1);
        _scheduler.TakeEffects();

        // The ended one and the unknown one are the server's to look up (JobQueries); the scheduler holds neither.
        Assert.Equal([1L, 99L], _scheduler.Watch(Peer("c"), 77, [1, 2, 99]));

        Finish("w1", 2);
        var notice = Assert.Single(_scheduler.TakeEffects(), e => e.Message is JobFinishedNotice);
        Assert.Equal(Peer("c"), notice.To);
        Assert.Equal(77, notice.Rid);
        Assert.Equal(2, Assert.Single(((JobFinishedNotice)notice.Message).Jobs).Id);
    }

    [Fact]
    public void Unwatch_StopsNotices()
    {
        Hello("w1", slots: 1);
        _scheduler.Submit([Spec()], Now);
        Dispatches();
        _scheduler.Watch(Peer("c"), 5, [1]);
        _scheduler.Unwatch(Peer("c"), 5);
        Finish("w1", 1);
        Assert.DoesNotContain(_scheduler.TakeEffects(), e => e.Message is JobFinishedNotice);
    }

    [Fact]
    public void StopIdleWorkers_TellsOnlyIdleOnes_AndTheirSlotsVanish()
    {
        Hello("busy", slots: 3);
        _scheduler.Submit([Spec()], Now);
        Assert.Equal("busy", Assert.Single(Dispatches()).To.Value);
        Hello("idle1", slots: 1);
        Hello("idle2", slots: 2);
        Assert.Equal(5, _scheduler.IdleSlots);

        var reply = _scheduler.StopWorkers(idle: true, ids: null, drain: false);
        Assert.Equal(["idle1", "idle2"], reply.Stopped.Select(w => w.Id).Order());
        Assert.All(_scheduler.TakeEffects(), e => Assert.IsType<ShutdownWorker>(e.Message));
        Assert.Equal(2, _scheduler.IdleSlots); // the busy worker keeps its two free slots
        Assert.Equal(["busy"], _scheduler.GetWorkers().Select(w => w.Id));
    }

    [Fact]
    public void RepeatedHello_AsHeartbeat_ChangesNothing()
    {
        Hello("w1", slots: 2);
        _scheduler.Submit([Spec()], Now);
        var first = Assert.Single(Dispatches());
        Hello("w1", slots: 2); // a heartbeat sent before the dispatch arrived: it must not free the slot
        Hello("w1", slots: 2, oneShot: false, new RunningJobRef(first.Job.JobId, 1));
        Assert.Empty(Dispatches());
        Assert.Equal(1, _scheduler.IdleSlots);
        Assert.Single(_scheduler.GetWorkers());
    }

    [Fact]
    public void JobsTheServerDoesNotKnow_StillTakeTheWorkersSlots_UntilTheyEnd()
    {
        // After a restart that lost its state, the server hears of jobs it never dispatched.
        Hello("w1", slots: 2, oneShot: false, new RunningJobRef(41, 1), new RunningJobRef(42, 1));
        Assert.Equal(0, _scheduler.IdleSlots);
        _scheduler.Submit([Spec()], Now);
        Assert.Empty(Dispatches());

        Assert.Null(Finish("w1", 41));
        Assert.Equal(1, Assert.Single(Dispatches()).Job.JobId);
    }

    [Fact]
    public void ADispatchTheWorkerNeverGot_IsRequeued_OnceItHasSeenALaterOne()
    {
        Hello("w1", slots: 2);
        _scheduler.Submit([Spec()], Now);
        var first = Assert.Single(Dispatches()).Job;
        Hello("w1", slots: 2); // says nothing about our dispatches (no epoch): the job stays
        Assert.Equal(JobState.Running, _scheduler.GetJob(1)!.State);

        _scheduler.Submit([Spec()], Now);
        var second = Assert.Single(Dispatches()).Job;
        Assert.Equal(first.Epoch, second.Epoch);
        Assert.Equal(first.Seq + 1, second.Seq);

        // The worker got the second dispatch but lists only it: the first never arrived.
        _scheduler.WorkerHello(Peer("w1"), new WorkerHello("w1", "host", 1, 2, [new RunningJobRef(2, 1)], "v", false, second.Epoch, second.Seq), Now);
        var again = Assert.Single(Dispatches()).Job;
        Assert.Equal(1, again.JobId);
        Assert.Equal(1, again.Attempt); // a hand-off that never arrived is not an attempt
        Assert.Equal(0, _store.Counters.DeadWorkerResubmits);
    }

    [Fact]
    public void HellosFromBeforeARestart_NeverMakeADispatchLookLost()
    {
        Hello("w1", slots: 1);
        _scheduler.Submit([Spec()], Now);
        Dispatches();
        _scheduler.WorkerHello(Peer("w1"), new WorkerHello("w1", "host", 1, 1, [], "v", false, "another-server-run", 99), Now);
        Assert.Equal(JobState.Running, _scheduler.GetJob(1)!.State);
        Assert.Empty(Dispatches());
    }

    [Fact]
    public void AWorkerWronglyThoughtDead_GetsItsJobBack_IfNobodyTookItYet()
    {
        Hello("w1", slots: 1);
        _scheduler.Submit([Spec()], Now);
        Dispatches();
        _scheduler.WorkerGone("w1", dead: true);
        Assert.Equal(1, _scheduler.WaitingJobs);
        Hello("w1", slots: 1, oneShot: false, new RunningJobRef(1, 1));
        Assert.Equal(0, _scheduler.WaitingJobs);
        Assert.Empty(Dispatches());
        var job = _scheduler.GetJob(1)!;
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.NotNull(Finish("w1", 1));
    }

    [Fact]
    public void TheEndOfARunQueuedAgainFromADeadWorker_IsTakenWhileNobodyTookTheJob_AndTheJobDoesNotRunAgain()
    {
        // A keeper died with the end of its job in its ledger; the server declared its worker dead and queued the job
        // again; the next keeper on the host reports that end for the dead worker before any worker took the job.
        Hello("dead", slots: 1);
        _scheduler.Submit([Spec()], Now);
        Dispatches();
        _scheduler.JobStarted(new JobStarted("dead", 1, 1, 100, Now));
        _scheduler.WorkerGone("dead", dead: true);
        Assert.Equal(1, _scheduler.WaitingJobs);

        var ended = Finish("dead", 1, attempt: 1, JobState.Failed);
        Assert.NotNull(ended);
        Assert.Equal((JobState.Failed, 1, 1, "dead"), (ended.State, ended.ExitCode, ended.Attempts, ended.WorkerId));
        Assert.Empty(ended.History);
        Assert.Equal(0, _scheduler.WaitingJobs);
        Assert.Equal(1, _store.Counters.DeadWorkerResubmits); // a counter: the re-queue happened, and stays counted
        Hello("next", slots: 1);
        Assert.Empty(Dispatches()); // nothing runs it again
    }

    [Fact]
    public void TheEndOfARunQueuedAgainFromADeadWorker_IsStale_OnceTheJobRunsElsewhere()
    {
        Hello("dead", slots: 1);
        _scheduler.Submit([Spec()], Now);
        Dispatches();
        _scheduler.WorkerGone("dead", dead: true);
        Hello("other", slots: 1);
        Assert.Equal(2, Assert.Single(Dispatches()).Job.Attempt);
        Assert.Null(Finish("dead", 1, attempt: 1));
        var job = _scheduler.GetJob(1)!;
        Assert.Equal((JobState.Running, "other", 2), (job.State, job.WorkerId, job.Attempts));
        Assert.NotNull(Finish("other", 1, attempt: 2));
    }

    [Fact]
    public void GetJob_IsOnlyForTheJobsItHolds()
    {
        Hello("w1", slots: 1);
        _scheduler.Submit([Spec(), Spec()], Now);
        Dispatches();
        Assert.Equal(JobState.Running, _scheduler.GetJob(1)!.State);
        Assert.Equal(JobState.Waiting, _scheduler.GetJob(2)!.State);
        Finish("w1", 1);
        Assert.Null(_scheduler.GetJob(1)); // ended: the store's (JobQueries.Job)
        Assert.Null(_scheduler.GetJob(5));
    }

    [Fact]
    public void AJobOfHigherPriority_OvertakesTheQueue_AndSetPriorityMovesAWaitingJob()
    {
        Hello("w1", slots: 1);
        _scheduler.Submit([Spec("running")], Now);
        _scheduler.Submit([Spec("low-a"), Spec("low-b")], Now);
        var urgent = _scheduler.Submit([Spec("urgent") with { Priority = 5 }], Now)[0];
        Assert.Equal((5, JobState.Waiting), (urgent.Priority, urgent.State));
        Assert.Equal([1L], Dispatches().Select(d => d.Job.JobId));

        var reply = _scheduler.SetPriority([3, 1, 99], 9); // 3 waits; 1 runs; 99 is not this scheduler's
        Assert.Equal(3, Assert.Single(reply.Changed).Id);
        Assert.Equal(1, Assert.Single(reply.Started).Id);
        Assert.Equal(99, Assert.Single(reply.Unknown));

        Finish("w1", 1);
        Assert.Equal([3L], Dispatches().Select(d => d.Job.JobId));
        Finish("w1", 3);
        Assert.Equal([4L], Dispatches().Select(d => d.Job.JobId));
        Finish("w1", 4);
        Assert.Equal([2L], Dispatches().Select(d => d.Job.JobId));
    }
}
