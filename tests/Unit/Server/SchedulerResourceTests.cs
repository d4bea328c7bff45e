using Goq.Protocol;
using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Which worker runs which job: queues, labels, slot counts, queue throttles, and slots kept for a wide job.</summary>
public sealed class SchedulerResourceTests
{
    private readonly SchedulerHarness _h = new(new SchedulerOptions { KeepSlotsAfter = TimeSpan.FromMinutes(5) });

    /// <summary>The jobs handed out since the last look, as (job, worker).</summary>
    private List<(long Job, string Worker)> Dispatched() => _h.Dispatches().Select(d => (d.JobId, d.To.Value)).ToList();

    [Fact]
    public void AJobRunsOnlyOnAWorkerServingItsQueue_AndSaysSoUntilOneDoes()
    {
        _h.Hello("w1", 2);
        var gpuJob = _h.Submit(Spec(queue: "gpu")).Id;
        var plain = _h.Submit(Spec()).Id;
        Assert.Equal([(plain, "w1")], Dispatched());
        Assert.Equal("no connected worker serves queue 'gpu'", _h.Scheduler.WhyWaiting(gpuJob));

        _h.Hello("w2", 1, queues: ["gpu", "default"]);
        Assert.Equal([(gpuJob, "w2")], Dispatched());
        Assert.Null(_h.Scheduler.WhyWaiting(gpuJob));
    }

    [Fact]
    public void AJobRequiringLabels_RunsOnlyWhereAllAre_AndNamesTheMissingOne()
    {
        _h.Hello("plain", 4);
        var needsGpu = _h.Submit(Spec(require: ["gpu"])).Id;
        var needsBoth = _h.Submit(Spec(require: ["bigmem", "gpu"])).Id;
        Assert.Empty(Dispatched());
        Assert.Equal("no worker has label gpu", _h.Scheduler.WhyWaiting(needsGpu));
        Assert.Equal("no worker has label bigmem, gpu", _h.Scheduler.WhyWaiting(needsBoth));

        _h.Hello("gpu", 4, labels: ["gpu"]);
        Assert.Equal([(needsGpu, "gpu")], Dispatched());
        Assert.Equal("no worker has label bigmem", _h.Scheduler.WhyWaiting(needsBoth));

        _h.Hello("mem", 4, labels: ["bigmem"]);
        Assert.Empty(Dispatched());
        Assert.Equal("no worker has every label of bigmem, gpu", _h.Scheduler.WhyWaiting(needsBoth));
    }

    [Fact]
    public void SlotCounts_ArePackedIntoAWorkersSlots_AndAJobTooWideForEveryWorkerSaysSo()
    {
        _h.Hello("w1", 4);
        var a = _h.Submit(Spec(slots: 2)).Id;
        var b = _h.Submit(Spec(slots: 2)).Id;
        var c = _h.Submit(Spec(slots: 1)).Id;
        var huge = _h.Submit(Spec(slots: 8)).Id;
        Assert.Equal([(a, "w1"), (b, "w1")], Dispatched());
        Assert.Equal(4, _h.Scheduler.GetWorkers()[0].BusySlots);
        Assert.Equal("needs 8 slots; the largest worker that could run it has 4", _h.Scheduler.WhyWaiting(huge));

        _h.End(a);
        Assert.Equal([(c, "w1")], Dispatched()); // one slot stays free: b (2) and c (1) take three
        Assert.Equal(3, _h.Scheduler.GetWorkers()[0].BusySlots);
    }

    [Fact]
    public void AWideJob_LetsNarrowerOnesPass_UntilItHasWaitedTooLong_ThenAWorkerKeepsItsSlotsForIt()
    {
        _h.Hello("w1", 2);
        var first = _h.Submit(Spec()).Id;
        var wide = _h.Submit(Spec(slots: 2)).Id;
        var early = _h.Submit(Spec()).Id;
        Assert.Equal([(first, "w1"), (early, "w1")], Dispatched()); // backfill: the wide one does not fit yet
        Assert.Equal("waiting for 2 free slots on one worker", _h.Scheduler.WhyWaiting(wide));

        var late = _h.Submit(Spec()).Id;
        _h.End(first);
        Assert.Equal([(late, "w1")], Dispatched()); // still within the wait: the freed slot is used
        var later = _h.Submit(Spec()).Id;

        _h.Advance(TimeSpan.FromMinutes(6));
        _h.Hello("w1", 2);
        _h.Tick();
        _h.End(early); // a slot frees: kept for the wide job, not given to the later narrow one
        Assert.Empty(Dispatched());
        Assert.StartsWith("worker host/w1 keeps its slots for it (1 of 2 free)", _h.Scheduler.WhyWaiting(wide));

        _h.End(late);
        Assert.Equal([(wide, "w1")], Dispatched());
        _h.End(wide);
        Assert.Equal([(later, "w1")], Dispatched());
    }

    [Fact]
    public void AQueuesThrottleLimit_CapsItsRunningJobs_ClusterWide_AndRaisingItStartsMore()
    {
        _h.Hello("w1", 2);
        _h.Hello("w2", 2);
        _h.Scheduler.SetQueueLimit("default", 3, _h.Now);
        var jobs = Enumerable.Range(0, 5).Select(_ => _h.Submit(Spec()).Id).ToList();
        Assert.Equal(3, Dispatched().Count);
        Assert.Equal("queue 'default' is at its throttle limit of 3 running jobs", _h.Scheduler.WhyWaiting(jobs[3]));
        var queue = _h.Scheduler.GetQueues().Single();
        Assert.Equal((3, 2, 3, 2, 4), (queue.ThrottleLimit, queue.WaitingJobs, queue.RunningJobs, queue.Workers, queue.Slots));

        _h.End(jobs[0]);
        Assert.Equal([jobs[3]], Dispatched().Select(d => d.Job));
        Assert.Equal(0, _h.Scheduler.SetQueueLimit("default", 0, _h.Now).ThrottleLimit);
        Assert.Equal([jobs[4]], Dispatched().Select(d => d.Job));
    }

    [Fact]
    public void AThrottledQueue_DoesNotHoldBackAnotherQueue_OnTheSameWorker()
    {
        _h.Hello("w1", 3, queues: ["a", "b"]);
        _h.Scheduler.SetQueueLimit("a", 1, _h.Now);
        var a1 = _h.Submit(Spec(queue: "a")).Id;
        _h.Submit(Spec(queue: "a"));
        var b1 = _h.Submit(Spec(queue: "b")).Id;
        var b2 = _h.Submit(Spec(queue: "b")).Id;
        Assert.Equal([a1, b1, b2], Dispatched().Select(d => d.Job));
    }

    [Fact]
    public void AWorkerServingSeveralQueues_TakesTheBestJobOfAll_ByPriorityThenId()
    {
        _h.Hello("w1", 1, queues: ["a", "b"]);
        var busy = _h.Submit(Spec(queue: "a")).Id;
        var low = _h.Submit(Spec(queue: "a")).Id;
        var high = _h.Submit(Spec(queue: "b", priority: 5)).Id;
        var sameAsLow = _h.Submit(Spec(queue: "b")).Id;
        Assert.Equal([busy], Dispatched().Select(d => d.Job));
        _h.End(busy);
        _h.End(Assert.Single(Dispatched()).Job == high ? high : throw new Xunit.Sdk.XunitException("the high-priority job did not go first"));
        Assert.Equal([low], Dispatched().Select(d => d.Job));
        _h.End(low);
        Assert.Equal([sameAsLow], Dispatched().Select(d => d.Job));
    }

    [Fact]
    public void AWorkerTakingJobsAhead_TakesOnlySingleSlotOnes()
    {
        _h.Hello("w1", 2, prefetch: 4);
        var a = _h.Submit(Spec()).Id;
        var b = _h.Submit(Spec()).Id;
        Assert.Equal(2, Dispatched().Count);
        // Run times make it take jobs ahead: a job of a millisecond.
        _h.Finish("w1", a, attempt: 1, ran: TimeSpan.FromMilliseconds(1));
        var wide = _h.Submit(Spec(slots: 2)).Id;
        var narrow = _h.Submit(Spec()).Id;
        Assert.Equal([narrow], Dispatched().Select(d => d.Job).Where(id => id != b && id != a));
        Assert.Equal(JobState.Waiting, _h.Scheduler.GetJob(wide)!.State);
    }

    [Fact]
    public void QueueLimits_AndEveryJobsQueueSlotsAndLabels_SurviveARestart()
    {
        _h.Hello("w1", 1);
        _h.Scheduler.SetQueueLimit("gpu", 2, _h.Now);
        var id = _h.Submit(Spec(queue: "gpu", slots: 3, require: ["gpu"])).Id;
        var after = _h.Restart();
        Assert.Equal(2, after.GetQueues().Single(q => q.Name == "gpu").ThrottleLimit);
        var job = after.GetJob(id)!;
        Assert.Equal(("gpu", 3, "gpu"), (job.Queue, job.SlotCount, string.Join(',', job.Require)));
        _h.Hello("g", 4, queues: ["gpu"], labels: ["gpu"]);
        Assert.Equal(id, _h.DispatchedIds().Single());
    }
}
