using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>Which worker runs which job: queues, labels, slot counts, queue throttles, and slots kept for a wide job.</summary>
public sealed class SchedulerResourceTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private static readonly SchedulerOptions Options = new() { KeepSlotsAfter = TimeSpan.FromMinutes(5) };
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;

    public SchedulerResourceTests() => _scheduler = new Scheduler(_store, Options, Now);

    private static JobSpec Spec(string queue = JobSpec.DefaultQueue, int slots = 1, int priority = 0, params string[] require) =>
        new() { Kind = JobKind.Shell, Command = "true", Queue = queue, SlotCount = slots, Priority = priority, Require = require };

    private long Submit(JobSpec spec) => _scheduler.Submit([spec], Now)[0].Id;

    private void Worker(string id, int slots, string[]? queues = null, string[]? labels = null, DateTimeOffset? at = null) =>
        _scheduler.WorkerHello(new PeerId(id), new WorkerHello(id, "host", 1, slots, [], "v", false, Prefetch: 0, Queues: queues, Labels: labels), at ?? Now);

    /// <summary>The jobs handed out since the last look, as (job, worker).</summary>
    private List<(long Job, string Worker)> Dispatched() => _scheduler.TakeEffects()
        .Where(e => e.Message is DispatchJob).Select(e => (((DispatchJob)e.Message).JobId, e.To.Value)).ToList();

    private void End(long id) =>
        Assert.NotNull(_scheduler.JobFinished(new JobFinished(_scheduler.GetJob(id)!.WorkerId!, id, _scheduler.GetJob(id)!.Attempts, JobState.Completed, 0, null, Now, Now)));

    [Fact]
    public void AJobRunsOnlyOnAWorkerServingItsQueue_AndSaysSoUntilOneDoes()
    {
        Worker("w1", 2);
        var gpuJob = Submit(Spec(queue: "gpu"));
        var plain = Submit(Spec());
        Assert.Equal([(plain, "w1")], Dispatched());
        Assert.Equal("no connected worker serves queue 'gpu'", _scheduler.WhyWaiting(gpuJob));

        Worker("w2", 1, queues: ["gpu", "default"]);
        Assert.Equal([(gpuJob, "w2")], Dispatched());
        Assert.Null(_scheduler.WhyWaiting(gpuJob));
    }

    [Fact]
    public void AJobRequiringLabels_RunsOnlyWhereAllAre_AndNamesTheMissingOne()
    {
        Worker("plain", 4);
        var needsGpu = Submit(Spec(require: ["gpu"]));
        var needsBoth = Submit(Spec(require: ["bigmem", "gpu"]));
        Assert.Empty(Dispatched());
        Assert.Equal("no worker has label gpu", _scheduler.WhyWaiting(needsGpu));
        Assert.Equal("no worker has label bigmem, gpu", _scheduler.WhyWaiting(needsBoth));

        Worker("gpu", 4, labels: ["gpu"]);
        Assert.Equal([(needsGpu, "gpu")], Dispatched());
        Assert.Equal("no worker has label bigmem", _scheduler.WhyWaiting(needsBoth));

        Worker("mem", 4, labels: ["bigmem"]);
        Assert.Empty(Dispatched());
        Assert.Equal("no worker has every label of bigmem, gpu", _scheduler.WhyWaiting(needsBoth));
    }

    [Fact]
    public void SlotCounts_ArePackedIntoAWorkersSlots_AndAJobTooWideForEveryWorkerSaysSo()
    {
        Worker("w1", 4);
        var a = Submit(Spec(slots: 2));
        var b = Submit(Spec(slots: 2));
        var c = Submit(Spec(slots: 1));
        var huge = Submit(Spec(slots: 8));
        Assert.Equal([(a, "w1"), (b, "w1")], Dispatched());
        Assert.Equal(4, _scheduler.GetWorkers()[0].BusySlots);
        Assert.Equal("needs 8 slots; the largest worker that could run it has 4", _scheduler.WhyWaiting(huge));

        End(a);
        Assert.Equal([(c, "w1")], Dispatched()); // one slot stays free: b (2) and c (1) take three
        Assert.Equal(3, _scheduler.GetWorkers()[0].BusySlots);
    }

    [Fact]
    public void AWideJob_LetsNarrowerOnesPass_UntilItHasWaitedTooLong_ThenAWorkerKeepsItsSlotsForIt()
    {
        Worker("w1", 2);
        var first = Submit(Spec());
        var wide = Submit(Spec(slots: 2));
        var early = Submit(Spec());
        Assert.Equal([(first, "w1"), (early, "w1")], Dispatched()); // backfill: the wide one does not fit yet
        Assert.Equal("waiting for 2 free slots on one worker", _scheduler.WhyWaiting(wide));

        var late = Submit(Spec());
        End(first);
        Assert.Equal([(late, "w1")], Dispatched()); // still within the wait: the freed slot is used
        var later = Submit(Spec());

        Worker("w1", 2, at: Now.AddMinutes(6));
        _scheduler.Tick(Now.AddMinutes(6));
        End(early); // a slot frees: kept for the wide job, not given to the later narrow one
        Assert.Empty(Dispatched());
        Assert.StartsWith("worker host/w1 keeps its slots for it (1 of 2 free)", _scheduler.WhyWaiting(wide));

        End(late);
        Assert.Equal([(wide, "w1")], Dispatched());
        End(wide);
        Assert.Equal([(later, "w1")], Dispatched());
    }

    [Fact]
    public void AQueuesThrottleLimit_CapsItsRunningJobs_ClusterWide_AndRaisingItStartsMore()
    {
        Worker("w1", 2);
        Worker("w2", 2);
        _scheduler.SetQueueLimit("default", 3);
        var jobs = Enumerable.Range(0, 5).Select(_ => Submit(Spec())).ToList();
        Assert.Equal(3, Dispatched().Count);
        Assert.Equal("queue 'default' is at its throttle limit of 3 running jobs", _scheduler.WhyWaiting(jobs[3]));
        var queue = _scheduler.GetQueues().Single();
        Assert.Equal((3, 2, 3, 2, 4), (queue.ThrottleLimit, queue.WaitingJobs, queue.RunningJobs, queue.Workers, queue.Slots));

        End(jobs[0]);
        Assert.Equal([jobs[3]], Dispatched().Select(d => d.Job));
        Assert.Equal(0, _scheduler.SetQueueLimit("default", 0).ThrottleLimit);
        Assert.Equal([jobs[4]], Dispatched().Select(d => d.Job));
    }

    [Fact]
    public void AThrottledQueue_DoesNotHoldBackAnotherQueue_OnTheSameWorker()
    {
        Worker("w1", 3, queues: ["a", "b"]);
        _scheduler.SetQueueLimit("a", 1);
        var a1 = Submit(Spec(queue: "a"));
        Submit(Spec(queue: "a"));
        var b1 = Submit(Spec(queue: "b"));
        var b2 = Submit(Spec(queue: "b"));
        Assert.Equal([a1, b1, b2], Dispatched().Select(d => d.Job));
    }

    [Fact]
    public void AWorkerServingSeveralQueues_TakesTheBestJobOfAll_ByPriorityThenId()
    {
        Worker("w1", 1, queues: ["a", "b"]);
        var busy = Submit(Spec(queue: "a"));
        var low = Submit(Spec(queue: "a"));
        var high = Submit(Spec(queue: "b", priority: 5));
        var sameAsLow = Submit(Spec(queue: "b"));
        Assert.Equal([busy], Dispatched().Select(d => d.Job));
        End(busy);
        End(Assert.Single(Dispatched()).Job == high ? high : throw new Xunit.Sdk.XunitException("the high-priority job did not go first"));
        Assert.Equal([low], Dispatched().Select(d => d.Job));
        End(low);
        Assert.Equal([sameAsLow], Dispatched().Select(d => d.Job));
    }

    [Fact]
    public void AWorkerTakingJobsAhead_TakesOnlySingleSlotOnes()
    {
        _scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 2, [], "v", false, Prefetch: 4), Now);
        var a = Submit(Spec());
        var b = Submit(Spec());
        Assert.Equal(2, Dispatched().Count);
        // Run times make it take jobs ahead: a job of a millisecond.
        _scheduler.JobFinished(new JobFinished("w1", a, 1, JobState.Completed, 0, null, Now, Now.AddMilliseconds(1)));
        var wide = Submit(Spec(slots: 2));
        var narrow = Submit(Spec());
        Assert.Equal([narrow], Dispatched().Select(d => d.Job).Where(id => id != b && id != a));
        Assert.Equal(JobState.Waiting, _scheduler.GetJob(wide)!.State);
    }

    [Fact]
    public void QueueLimits_AndEveryJobsQueueSlotsAndLabels_SurviveARestart()
    {
        Worker("w1", 1);
        _scheduler.SetQueueLimit("gpu", 2);
        var id = Submit(Spec(queue: "gpu", slots: 3, require: ["gpu"]));
        var after = new Scheduler(_store, Options, Now);
        Assert.Equal(2, after.GetQueues().Single(q => q.Name == "gpu").ThrottleLimit);
        var job = after.GetJob(id)!;
        Assert.Equal(("gpu", 3, "gpu"), (job.Queue, job.SlotCount, string.Join(',', job.Require)));
        after.WorkerHello(new PeerId("g"), new WorkerHello("g", "host", 1, 4, [], "v", false, Queues: ["gpu"], Labels: ["gpu"]), Now);
        Assert.Equal(id, after.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().Single().JobId);
    }
}
