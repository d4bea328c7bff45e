using Goq.Server;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>The scheduler's policy types, each alone: run limits, the waiting pool and its classes, release timers, arrays, a worker's slots.</summary>
public sealed class SchedulingPolicyTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    [Fact]
    public void RunLimits_CountEachJobOnceUnderEachKey_AndSayWhichKeyIsFull()
    {
        var limits = new RunLimits();
        limits.SetLimit("queue:a", 2);
        limits.Enter(1, ["queue:a", "array:9"]);
        limits.Enter(1, ["queue:a", "array:9"]); // counted once
        Assert.Null(limits.Full(["queue:a", "array:9"]));
        limits.Enter(2, ["queue:a"]);
        Assert.Equal("queue:a", limits.Full(["array:9", "queue:a"]));
        limits.Leave(1);
        limits.Leave(1);
        Assert.Equal((1, 0), (limits.Running("queue:a"), limits.Running("array:9")));
        Assert.Null(limits.Full(["queue:a"]));
        limits.SetLimit("queue:a", 0);
        Assert.Equal(0, limits.Limit("queue:a"));
    }

    [Fact]
    public void TheWaitingPool_KeepsAClassPerKindOfJob_InOneSharedOrder()
    {
        var pool = new WaitingPool();
        JobInfo Job(long id, string queue = "default", int priority = 0, int slots = 1) => new() { Id = id, Queue = queue, Priority = priority, SlotCount = slots };
        pool.Add(Job(1), TimeSpan.Zero);
        pool.Add(Job(2, "gpu"), TimeSpan.Zero);
        pool.Add(Job(3, priority: 5), TimeSpan.Zero);
        pool.Add(Job(4, slots: 4), TimeSpan.Zero);
        pool.Add(Job(5), TimeSpan.Zero, front: true);
        Assert.Equal(3, pool.Classes.Count());
        var heads = pool.Classes.Select(c => c.Jobs.Head!.Value).OrderBy(h => h, Comparer<(int, long, long)>.Create(WaitingPool.Compare)).Select(h => h.Id);
        Assert.Equal([3L, 2L, 4L], heads); // priority first; then the lost-worker job (5) is behind 3 in its class, and 2 is older than 4
        Assert.Equal(3, pool.ClassOf(1)!.Jobs.Count); // 1, 3 and 5 share a class
        pool.Remove(2);
        Assert.Equal(2, pool.Classes.Count()); // an empty class goes
        pool.Reprioritize(1, 9);
        Assert.Equal(1, pool.ClassOf(1)!.Jobs.Next);
    }

    [Fact]
    public void AClassFitsAWorker_ThatServesItsQueue_HasItsLabels_AndEnoughSlots()
    {
        var (key, require, throttles) = JobClass.Of(new JobInfo { Queue = "gpu", SlotCount = 2, Require = ["gpu", "big", "gpu"] });
        var jobClass = new JobClass(key, "gpu", 2, require, throttles);
        var worker = new WorkerEntry("w", new PeerId("p")) { Slots = 4, Queues = ["gpu"], Labels = ["big", "gpu"] };
        Assert.True(jobClass.Fits(worker));
        Assert.Equal(["big", "gpu"], require);
        Assert.False(jobClass.Fits(new WorkerEntry("w", new PeerId("p")) { Slots = 1, Queues = ["gpu"], Labels = ["big", "gpu"] }));
        Assert.False(jobClass.Fits(new WorkerEntry("w", new PeerId("p")) { Slots = 4, Queues = ["default"], Labels = ["big", "gpu"] }));
        Assert.False(jobClass.Fits(new WorkerEntry("w", new PeerId("p")) { Slots = 4, Queues = ["gpu"], Labels = ["gpu"] }));
    }

    [Fact]
    public void ReleaseTimers_GiveBackTheJobsWhoseTimeHasCome_EarliestFirst()
    {
        var timers = new ReleaseTimers();
        timers.Set(1, Now.AddSeconds(30));
        timers.Set(2, Now.AddSeconds(10));
        timers.Set(3, Now.AddSeconds(20));
        timers.Set(3, Now.AddSeconds(40)); // moved
        timers.Remove(1);
        Assert.Empty(timers.TakeDue(Now.AddSeconds(5)));
        Assert.Equal([2L], timers.TakeDue(Now.AddSeconds(35)));
        Assert.Equal([3L], timers.TakeDue(Now.AddSeconds(40)));
        Assert.Equal(0, timers.Count);
    }

    [Fact]
    public void AnArrayJob_MakesTasksInPositionOrder_SkippingThoseMadeOutOfTurn_AndTellsItsOutcome()
    {
        var array = new ArrayJob(new JobInfo { Id = 100, TaskCount = 4 }, new JobSpec { Command = "x", ArrayIndex = [3, 5, 8, 13] });
        Assert.Equal((101L, 104L), (array.TaskId(0), array.TaskId(3)));
        Assert.Equal(2, array.Position(103));
        Assert.Null(array.Position(105));
        array.MarkMade(1); // named by a user before its turn
        Assert.Equal(0, array.NextPosition());
        array.MarkMade(0);
        Assert.Equal(2, array.NextPosition());
        Assert.Equal([103L, 104L], array.UnmadeIds(0));
        Assert.Equal([104L], array.UnmadeIds(103));
        Assert.Equal(new ArrayTask(100, 8, 4), array.TaskSpec(2).ArrayTask);
        Assert.Null(array.TaskSpec(2).ArrayIndex);

        array.MarkMade(2);
        array.MarkMade(3);
        array.Live = 4;
        foreach (var state in new[] { JobState.Completed, JobState.Completed, JobState.Completed })
        {
            array.TaskEnded(state);
        }

        Assert.False(array.Ended);
        array.TaskEnded(JobState.Cancelled);
        Assert.Equal((true, JobState.Cancelled), (array.Ended, array.Outcome));
        array.Restarted(JobState.Cancelled);
        array.TaskEnded(JobState.Completed);
        Assert.Equal(JobState.Completed, array.Outcome);
    }

    [Fact]
    public void AWorkersJobs_CountTheSlotsTheyTake()
    {
        var jobs = new WorkerJobs();
        jobs.Add(1, 4);
        jobs.Add(2, 1);
        jobs.Add(2, 1);
        Assert.Equal((2, 5), (jobs.Count, jobs.UsedSlots));
        jobs.Remove(1);
        Assert.Equal(1, jobs.UsedSlots);
    }
}
