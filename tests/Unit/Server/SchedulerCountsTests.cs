using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>The metrics' goq_jobs{state,queue}: active jobs counted by queue from the scheduler, ended ones kept by the tally.</summary>
public sealed class SchedulerCountsTests
{
    private readonly SchedulerHarness _h = new(new SchedulerOptions { DeadAfter = TimeSpan.FromSeconds(15) });

    public SchedulerCountsTests() => _h.Scheduler.Tally.Load(_h.Store.CountEnded());

    private long Count(string queue, JobState state) => _h.Scheduler.CountActive().GetValueOrDefault((queue, state));

    private void AssertSumsAreTheTotals()
    {
        var counts = _h.Scheduler.CountActive();
        long Sum(JobState state) => counts.Where(c => c.Key.State == state).Sum(c => c.Value);
        Assert.Equal(_h.Scheduler.WaitingJobs, Sum(JobState.Waiting));
        Assert.Equal(_h.Scheduler.RunningJobs, Sum(JobState.Running));
        Assert.Equal(_h.Scheduler.BlockedJobs, Sum(JobState.Blocked));
        Assert.Equal(_h.Scheduler.HeldJobs, Sum(JobState.Held));
        Assert.All(counts.Values, v => Assert.True(v > 0));
    }

    [Fact]
    public void ActiveJobs_AreCountedByQueueAndState_AndAddUpToTheTotals()
    {
        var first = _h.Submit([Spec(), Spec(), Spec(queue: "gpu"), Spec(queue: "gpu", hold: true)]);
        _h.Submit([Spec(queue: "gpu", dependsOn: [first[2].Id]), Spec(queue: "batch", array: [1, 2, 3, 4, 5])]);
        AssertSumsAreTheTotals();
        Assert.Equal(2, Count("default", JobState.Waiting));
        Assert.Equal(1, Count("gpu", JobState.Waiting));
        Assert.Equal(1, Count("gpu", JobState.Held));
        Assert.Equal(1, Count("gpu", JobState.Blocked));
        Assert.Equal(5, Count("batch", JobState.Waiting)); // an array's tasks, made or not

        _h.Hello("w1", 1, queues: ["default"]);
        _h.Hello("w2", 2, queues: ["gpu", "batch"]);
        AssertSumsAreTheTotals();
        Assert.Equal((1, 1), (Count("default", JobState.Running), Count("default", JobState.Waiting)));
        Assert.Equal(2, Count("gpu", JobState.Running) + Count("batch", JobState.Running));
    }

    [Fact]
    public void EndedJobs_AreKeptByQueueAndState_ThroughEndsRestartsAndRemovals()
    {
        _h.Hello("w1", 2, queues: ["default", "gpu"]);
        var jobs = _h.Submit([Spec(), Spec(queue: "gpu")]);
        foreach (var (job, state) in jobs.Zip([JobState.Completed, JobState.Failed]))
        {
            Assert.NotNull(_h.Finish("w1", job.Id, attempt: 1, state: state, ran: TimeSpan.FromSeconds(2), pid: 0));
        }

        var tally = _h.Scheduler.Tally;
        Assert.Equal(1, tally.Stored[("default", JobState.Completed)]);
        Assert.Equal(1, tally.Stored[("gpu", JobState.Failed)]);
        Assert.Equal((2, 1L, 1L), (tally.Started, tally.Ended[JobState.Completed], tally.Ended[JobState.Failed])); // ends that never reported a start count as started

        _h.Queries.Restart([jobs[1].Id], includeDependents: false, _h.Now);
        Assert.False(tally.Stored.ContainsKey(("gpu", JobState.Failed)));
        Assert.Equal(1, Count("gpu", JobState.Running) + Count("gpu", JobState.Waiting));

        _h.Queries.Remove([jobs[0].Id], null, _h.Now);
        Assert.Empty(tally.Stored);
        Assert.Equal(1, tally.Ended[JobState.Completed]); // the count since start is a counter: it never goes down
    }

    [Fact]
    public void ATallyLoadedFromTheStore_StartsFromItsEndedJobs()
    {
        _h.Hello("w1", 1, queues: ["default"]);
        var job = _h.Submit(Spec());
        _h.Finish("w1", job.Id, attempt: 1, ran: TimeSpan.FromSeconds(1), pid: 0);
        var again = _h.Restart();
        again.Tally.Load(_h.Store.CountEnded());
        Assert.Equal(1, again.Tally.Stored[("default", JobState.Completed)]);
        Assert.Equal(0, again.Tally.Started); // since this server started
    }
}
