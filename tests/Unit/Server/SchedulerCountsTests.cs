using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Server.Queries;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>The metrics' goq_jobs{state,queue}: active jobs counted by queue from the scheduler, ended ones kept by the tally.</summary>
public sealed class SchedulerCountsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;
    private readonly JobQueries _queries;

    public SchedulerCountsTests()
    {
        _scheduler = new Scheduler(_store, new SchedulerOptions { DeadAfter = TimeSpan.FromSeconds(15) }, Now);
        _queries = new JobQueries(_store, _scheduler);
        _scheduler.Tally.Load(_store.CountEnded());
    }

    private static JobSpec Spec(string queue = JobSpec.DefaultQueue, bool hold = false, long[]? dependsOn = null, int[]? array = null) =>
        new() { Kind = JobKind.Shell, Command = "x", Queue = queue, Hold = hold, DependsOn = dependsOn ?? [], ArrayIndex = array };

    private void Hello(string id, int slots, params string[] queues) =>
        _scheduler.WorkerHello(new PeerId(id), new WorkerHello(id, "host", 1, slots, [], "v", false, Queues: queues), Now);

    private long Count(string queue, JobState state) => _scheduler.CountActive().GetValueOrDefault((queue, state));

    private void AssertSumsAreTheTotals()
    {
        var counts = _scheduler.CountActive();
        long Sum(JobState state) => counts.Where(c => c.Key.State == state).Sum(c => c.Value);
        Assert.Equal(_scheduler.WaitingJobs, Sum(JobState.Waiting));
        Assert.Equal(_scheduler.RunningJobs, Sum(JobState.Running));
        Assert.Equal(_scheduler.BlockedJobs, Sum(JobState.Blocked));
        Assert.Equal(_scheduler.HeldJobs, Sum(JobState.Held));
        Assert.All(counts.Values, v => Assert.True(v > 0));
    }

    [Fact]
    public void ActiveJobs_AreCountedByQueueAndState_AndAddUpToTheTotals()
    {
        var first = _scheduler.Submit([Spec(), Spec(), Spec("gpu"), Spec("gpu", hold: true)], Now);
        _scheduler.Submit([Spec("gpu", dependsOn: [first[2].Id]), Spec("batch", array: [1, 2, 3, 4, 5])], Now);
        AssertSumsAreTheTotals();
        Assert.Equal(2, Count("default", JobState.Waiting));
        Assert.Equal(1, Count("gpu", JobState.Waiting));
        Assert.Equal(1, Count("gpu", JobState.Held));
        Assert.Equal(1, Count("gpu", JobState.Blocked));
        Assert.Equal(5, Count("batch", JobState.Waiting)); // an array's tasks, made or not

        Hello("w1", 1, "default");
        Hello("w2", 2, "gpu", "batch");
        AssertSumsAreTheTotals();
        Assert.Equal((1, 1), (Count("default", JobState.Running), Count("default", JobState.Waiting)));
        Assert.Equal(2, Count("gpu", JobState.Running) + Count("batch", JobState.Running));
    }

    [Fact]
    public void EndedJobs_AreKeptByQueueAndState_ThroughEndsRestartsAndRemovals()
    {
        Hello("w1", 2, "default", "gpu");
        var jobs = _scheduler.Submit([Spec(), Spec("gpu")], Now);
        foreach (var (job, state) in jobs.Zip([JobState.Completed, JobState.Failed]))
        {
            Assert.NotNull(_scheduler.JobFinished(new JobFinished("w1", job.Id, 1, state, state == JobState.Completed ? 0 : 1, null, Now, Now.AddSeconds(2), 0)));
        }

        var tally = _scheduler.Tally;
        Assert.Equal(1, tally.Stored[("default", JobState.Completed)]);
        Assert.Equal(1, tally.Stored[("gpu", JobState.Failed)]);
        Assert.Equal((2, 1L, 1L), (tally.Started, tally.Ended[JobState.Completed], tally.Ended[JobState.Failed])); // ends that never reported a start count as started

        _queries.Restart([jobs[1].Id], includeDependents: false, Now);
        Assert.False(tally.Stored.ContainsKey(("gpu", JobState.Failed)));
        Assert.Equal(1, Count("gpu", JobState.Running) + Count("gpu", JobState.Waiting));

        _queries.Remove([jobs[0].Id], null);
        Assert.Empty(tally.Stored);
        Assert.Equal(1, tally.Ended[JobState.Completed]); // the count since start is a counter: it never goes down
    }

    [Fact]
    public void ATallyLoadedFromTheStore_StartsFromItsEndedJobs()
    {
        Hello("w1", 1, "default");
        var job = _scheduler.Submit([Spec()], Now)[0];
        _scheduler.JobFinished(new JobFinished("w1", job.Id, 1, JobState.Completed, 0, null, Now, Now.AddSeconds(1), 0));
        var again = new Scheduler(_store, null, Now);
        again.Tally.Load(_store.CountEnded());
        Assert.Equal(1, again.Tally.Stored[("default", JobState.Completed)]);
        Assert.Equal(0, again.Tally.Started); // since this server started
    }
}
