using Goq.Protocol;
using Goq.Server;
using Goq.Storage;

namespace Goq.Tests.Server;

/// <summary>Jobs handed to a worker ahead of a free slot (its Prefetch), and given back when no slot frees in time.</summary>
public sealed class SchedulerPrefetchTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;

    public SchedulerPrefetchTests() => _scheduler = new Scheduler(_store);

    private static JobSpec Spec() => new() { Kind = JobKind.Shell, Command = "true" };

    private void Hello(string worker, int slots, int prefetch, params RunningJobRef[] running) =>
        _scheduler.WorkerHello(new PeerId(worker), new WorkerHello(worker, "host", 1, slots, running, "v", false, Prefetch: prefetch), Now);

    private List<(string To, long JobId, int Attempt)> Dispatches() =>
        _scheduler.TakeEffects().Where(e => e.Message is DispatchJob).Select(e => (e.To.ToString(), ((DispatchJob)e.Message).JobId, ((DispatchJob)e.Message).Attempt)).ToList();

    private JobInfo? Finish(string worker, long id, int attempt = 1) =>
        _scheduler.JobFinished(new JobFinished(worker, id, attempt, JobState.Completed, 0, null, Now, Now));

    [Fact]
    public void AWorkerWithEverySlotBusy_TakesUpToItsPrefetchAhead_InQueueOrder()
    {
        Hello("w1", slots: 2, prefetch: 2);
        _scheduler.Submit([Spec(), Spec(), Spec(), Spec(), Spec()], Now);

        Assert.Equal([1L, 2L, 3L, 4L], Dispatches().Select(d => d.JobId));
        Assert.Equal(1, _scheduler.WaitingJobs);
        var info = Assert.Single(_scheduler.GetWorkers());
        Assert.Equal(2, info.BusySlots); // never more than its slots
        Assert.Equal(2, info.PrefetchedJobs);
        Assert.Equal(2, info.Prefetch);
        Assert.Equal([1L, 2L, 3L, 4L], info.RunningJobs);

        // A job ends: the worker starts one it holds, and is handed the next to hold.
        Assert.NotNull(Finish("w1", 1));
        Assert.Equal([5L], Dispatches().Select(d => d.JobId));
    }

    [Fact]
    public void AFreeSlotAnywhere_ComesBeforeTakingAhead()
    {
        Hello("w1", slots: 1, prefetch: 1);
        _scheduler.Submit([Spec()], Now);
        Assert.Equal([("w1", 1L, 1)], Dispatches());

        Hello("w2", slots: 1, prefetch: 1);
        _scheduler.Submit([Spec(), Spec(), Spec(), Spec()], Now);
        // w2's free slot first, then one ahead each, in turn; the last waits.
        Assert.Equal([("w2", 2L, 1), ("w1", 3L, 1), ("w2", 4L, 1)], Dispatches());
        Assert.Equal(1, _scheduler.WaitingJobs);
    }

    [Fact]
    public void NoPrefetch_MeansNoMoreJobsThanSlots()
    {
        Hello("w1", slots: 2, prefetch: 0);
        _scheduler.Submit([Spec(), Spec(), Spec()], Now);
        Assert.Equal(2, Dispatches().Count);
        Assert.Equal(1, _scheduler.WaitingJobs);
    }

    [Fact]
    public void AReturnedJob_GoesBackToItsPlace_WithItsAttemptGivenBack_AndTheWorkerTakesNoMoreAheadUntilAJobOfItsEnds()
    {
        Hello("w1", slots: 1, prefetch: 1);
        _scheduler.Submit([Spec(), Spec(), Spec()], Now);
        Assert.Equal([1L, 2L], Dispatches().Select(d => d.JobId));

        Assert.True(_scheduler.JobReturned(new JobReturned("w1", 2, 1)));
        var returned = _scheduler.GetJob(2)!;
        Assert.Equal(JobState.Waiting, returned.State);
        Assert.Equal(0, returned.Attempts);
        Assert.Null(returned.WorkerId);
        Assert.Empty(Dispatches()); // not handed back to the worker that just gave it up
        Assert.Equal(2, _scheduler.WaitingJobs);
        Assert.Equal(0, Assert.Single(_scheduler.GetWorkers()).PrefetchedJobs);

        // Job 1 ends: job 2 (back in its place, ahead of 3) takes the slot, and job 3 goes ahead again.
        Assert.NotNull(Finish("w1", 1));
        Assert.Equal([("w1", 2L, 1), ("w1", 3L, 1)], Dispatches());
        Assert.Equal(0, _store.Counters.DeadWorkerResubmits);
    }

    [Fact]
    public void AReturnedJob_GoesToAnotherWorkersFreeSlot_AtOnce()
    {
        Hello("w1", slots: 1, prefetch: 1);
        _scheduler.Submit([Spec(), Spec()], Now);
        Dispatches();
        Hello("w2", slots: 1, prefetch: 0);
        Assert.Empty(Dispatches());

        Assert.True(_scheduler.JobReturned(new JobReturned("w1", 2, 1)));
        Assert.Equal([("w2", 2L, 1)], Dispatches());
    }

    [Fact]
    public void AReturnOfAJobCancelledMeanwhile_FreesItsPlace_AndItStaysCancelled()
    {
        Hello("w1", slots: 1, prefetch: 1);
        _scheduler.Submit([Spec(), Spec(), Spec()], Now);
        Dispatches();
        _scheduler.Cancel([2], Now);
        Assert.Equal(JobState.Cancelled, _store.Get(2)!.State);
        _scheduler.TakeEffects();

        Assert.True(_scheduler.JobReturned(new JobReturned("w1", 2, 1)));
        Assert.Equal(JobState.Cancelled, _store.Get(2)!.State);
        Assert.Equal([("w1", 3L, 1)], Dispatches()); // the place it held is free again
    }

    [Fact]
    public void AReturnForAnotherLease_IsStale()
    {
        Hello("w1", slots: 1, prefetch: 1);
        _scheduler.Submit([Spec(), Spec()], Now);
        Dispatches();
        Assert.False(_scheduler.JobReturned(new JobReturned("w1", 2, 7)));
        Assert.False(_scheduler.JobReturned(new JobReturned("w2", 2, 1)));
        Assert.False(_scheduler.JobReturned(new JobReturned("w1", 99, 1)));
        Assert.Equal(JobState.Running, _scheduler.GetJob(2)!.State);
    }

    [Fact]
    public void AJobTakenAheadBeforeARestart_AndGivenBackAfterIt_IsQueuedOnce()
    {
        Hello("w1", slots: 1, prefetch: 1);
        _scheduler.Submit([Spec(), Spec()], Now);
        Dispatches();

        // The server restarts: both jobs are the worker's until it says otherwise (or the grace ends). Its return of
        // job 2 comes before its first hello.
        var after = new Scheduler(_store, now: Now);
        Assert.True(after.JobReturned(new JobReturned("w1", 2, 1)));
        var later = Now.AddHours(1); // the grace is long over: nothing of the worker's is left to return
        after.WorkerHello(new PeerId("w1b"), new WorkerHello("w1", "host", 1, 1, [new RunningJobRef(1, 1)], "v", false, Prefetch: 1), later);
        after.Tick(later);
        var dispatches = after.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().ToList();
        Assert.Equal([(2L, 1)], dispatches.Select(d => (d.JobId, d.Attempt))); // taken ahead again, once, as attempt 1
        Assert.Equal(0, after.WaitingJobs);
        after.Tick(later.AddSeconds(1));
        Assert.Empty(after.TakeEffects().Select(e => e.Message).OfType<DispatchJob>());
        Assert.Equal(JobState.Running, after.GetJob(2)!.State);
    }
}
