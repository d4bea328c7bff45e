using Goq.Protocol;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Jobs handed to a worker ahead of a free slot (its Prefetch), and given back when no slot frees in time.</summary>
public sealed class SchedulerPrefetchTests
{
    private readonly SchedulerHarness _h = new();

    private List<(string To, long JobId, int Attempt)> Dispatches() => _h.Dispatches().Select(d => (d.To.Value, d.JobId, d.Attempt)).ToList();

    private List<long> Submit(int count) => _h.Submit(Enumerable.Range(0, count).Select(_ => Spec()).ToList()).Select(j => j.Id).ToList();

    /// <summary>The end of a first run of <paramref name="ms"/>: how long a worker's jobs run sets how many it takes ahead.</summary>
    private JobInfo? Finish(string worker, long id, double ms = 2) => _h.Finish(worker, id, attempt: 1, ran: TimeSpan.FromMilliseconds(ms));

    /// <summary>A worker that has run one job of <paramref name="ms"/>: the server hands jobs ahead by how long they run.</summary>
    private void Warm(string worker, int slots, int prefetch, double ms = 2)
    {
        _h.Hello(worker, slots, prefetch: prefetch);
        var job = Submit(1)[0];
        Assert.Single(Dispatches());
        Assert.NotNull(Finish(worker, job, ms: ms));
    }

    [Fact]
    public void AWorkerWithEverySlotBusy_TakesUpToItsPrefetchAhead_InQueueOrder()
    {
        Warm("w1", slots: 2, prefetch: 2);
        var jobs = Submit(5);

        Assert.Equal(jobs[..4], Dispatches().Select(d => d.JobId));
        Assert.Equal(1, _h.Scheduler.WaitingJobs);
        var info = Assert.Single(_h.Scheduler.GetWorkers());
        Assert.Equal(2, info.BusySlots); // never more than its slots
        Assert.Equal(2, info.PrefetchedJobs);
        Assert.Equal(2, info.Prefetch);
        Assert.Equal(jobs[..4], info.RunningJobs);

        // A job ends: the worker starts one it holds, and is handed the next to hold.
        Assert.NotNull(Finish("w1", jobs[0]));
        Assert.Equal([jobs[4]], Dispatches().Select(d => d.JobId));
    }

    [Fact]
    public void HowManyGoAhead_FollowsHowLongTheWorkersJobsRun()
    {
        // Nothing known yet: nothing ahead.
        _h.Hello("w1", slots: 2, prefetch: 64);
        var first = Submit(3);
        Assert.Equal(first[..2], Dispatches().Select(d => d.JobId));

        // Jobs of 40 ms: each slot gets through two in the tenth of a second the server looks ahead.
        Assert.NotNull(Finish("w1", first[0], ms: 40));
        Assert.Equal([first[2]], Dispatches().Select(d => d.JobId)); // the free slot
        var more = Submit(6);
        Assert.Equal(more[..4], Dispatches().Select(d => d.JobId));
        Assert.Equal(4, Assert.Single(_h.Scheduler.GetWorkers()).PrefetchedJobs);

        // Jobs of a second: none ahead any more; those it holds still run there.
        foreach (var id in new[] { first[1], first[2] }.Concat(more[..4]))
        {
            Finish("w1", id, ms: 1000);
        }

        Assert.Equal(more[4..], Dispatches().Select(d => d.JobId)); // its two slots only
        Assert.Equal(0, Assert.Single(_h.Scheduler.GetWorkers()).PrefetchedJobs);
        Submit(1);
        Assert.Empty(Dispatches());
    }

    [Fact]
    public void AFreeSlotAnywhere_ComesBeforeTakingAhead()
    {
        Warm("w1", slots: 1, prefetch: 1);
        var blocker = Submit(1)[0];
        Assert.Equal([("w1", blocker, 1)], Dispatches());
        Warm("w2", slots: 1, prefetch: 1); // its warm-up job took w2's free slot, not w1's place ahead

        var jobs = Submit(4);
        // w2's free slot first, then one ahead each, in turn; the last waits.
        Assert.Equal([("w2", jobs[0], 1), ("w1", jobs[1], 1), ("w2", jobs[2], 1)], Dispatches());
        Assert.Equal(1, _h.Scheduler.WaitingJobs);
    }

    [Fact]
    public void NoPrefetch_MeansNoMoreJobsThanSlots()
    {
        Warm("w1", slots: 2, prefetch: 0);
        Submit(3);
        Assert.Equal(2, Dispatches().Count);
        Assert.Equal(1, _h.Scheduler.WaitingJobs);
    }

    [Fact]
    public void AReturnedJob_GoesBackToItsPlace_WithItsAttemptGivenBack_AndTheWorkerTakesNoMoreAheadUntilAJobOfItsEnds()
    {
        Warm("w1", slots: 1, prefetch: 1);
        var jobs = Submit(3);
        Assert.Equal(jobs[..2], Dispatches().Select(d => d.JobId));

        Assert.True(_h.Returned("w1", jobs[1], 1));
        var returned = _h.Scheduler.GetJob(jobs[1])!;
        Assert.Equal(JobState.Waiting, returned.State);
        Assert.Equal(0, returned.Attempts);
        Assert.Null(returned.WorkerId);
        Assert.Empty(Dispatches()); // not handed back to the worker that just gave it up
        Assert.Equal(2, _h.Scheduler.WaitingJobs);
        Assert.Equal(0, Assert.Single(_h.Scheduler.GetWorkers()).PrefetchedJobs);

        // The first ends: the returned job (back in its place, ahead of the third) takes the slot, and the third goes ahead.
        Assert.NotNull(Finish("w1", jobs[0]));
        Assert.Equal([("w1", jobs[1], 1), ("w1", jobs[2], 1)], Dispatches());
        Assert.Equal(0, _h.Store.Counters.DeadWorkerResubmits);
    }

    [Fact]
    public void AReturnedJob_GoesToAnotherWorkersFreeSlot_AtOnce()
    {
        Warm("w1", slots: 1, prefetch: 1);
        var jobs = Submit(2);
        Dispatches();
        _h.Hello("w2", slots: 1, prefetch: 0);
        Assert.Empty(Dispatches());

        Assert.True(_h.Returned("w1", jobs[1], 1));
        Assert.Equal([("w2", jobs[1], 1)], Dispatches());
    }

    [Fact]
    public void AReturnOfAJobCancelledMeanwhile_FreesItsPlace_AndItStaysCancelled()
    {
        Warm("w1", slots: 1, prefetch: 1);
        var jobs = Submit(3);
        Dispatches();
        _h.Scheduler.Cancel([jobs[1]], _h.Now);
        Assert.Equal(JobState.Cancelled, _h.Store.Get(jobs[1])!.State);
        _h.Effects();

        Assert.True(_h.Returned("w1", jobs[1], 1));
        Assert.Equal(JobState.Cancelled, _h.Store.Get(jobs[1])!.State);
        Assert.Equal([("w1", jobs[2], 1)], Dispatches()); // the place it held is free again
    }

    [Fact]
    public void AReturnForAnotherLease_IsStale()
    {
        Warm("w1", slots: 1, prefetch: 1);
        var jobs = Submit(2);
        Dispatches();
        Assert.False(_h.Returned("w1", jobs[1], 7));
        Assert.False(_h.Returned("w2", jobs[1], 1));
        Assert.False(_h.Returned("w1", 99, 1));
        Assert.Equal(JobState.Running, _h.Scheduler.GetJob(jobs[1])!.State);
    }

    [Fact]
    public void AJobTakenAheadBeforeARestart_AndGivenBackAfterIt_IsQueuedOnce()
    {
        Warm("w1", slots: 1, prefetch: 1);
        var jobs = Submit(2);
        Assert.Equal(2, Dispatches().Count);

        // The server restarts: both jobs are the worker's until it says otherwise (or the grace ends). Its return of
        // the second comes before its first hello.
        var after = _h.Restart();
        Assert.True(_h.Returned("w1", jobs[1], 1));
        _h.Advance(TimeSpan.FromHours(1)); // the grace is long over: nothing of the worker's is left to return
        _h.Hello("w1", 1, running: [new(jobs[0], 1)], prefetch: 1, peer: "w1b");
        _h.Tick();
        _h.Advance(TimeSpan.FromSeconds(1));
        _h.Tick();
        Assert.Empty(_h.Dispatches()); // a new worker entry: nothing ahead yet
        Assert.Equal(1, after.WaitingJobs); // once, not twice
        Assert.Equal(0, after.GetJob(jobs[1])!.Attempts);
        Assert.NotNull(_h.Finish("w1", jobs[0], attempt: 1));
        Assert.Equal([(jobs[1], 1)], _h.Dispatches().Select(d => (d.JobId, d.Attempt)));
        Assert.Equal(0, after.WaitingJobs);
    }
}
