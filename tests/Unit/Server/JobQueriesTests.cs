using Goq.Protocol;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Where the scheduler's answers (the jobs it holds) and the store's (ended jobs, pages, batches) meet.</summary>
public sealed class JobQueriesTests
{
    private readonly SchedulerHarness _h = new();

    public JobQueriesTests()
    {
        _h.Hello("w1");
        _h.Submit([Spec(), Spec(), Spec()], batchId: "batch-1"); // 1 runs, 2 and 3 wait
        Assert.NotNull(_h.Finish("w1", 1, attempt: 1)); // 2 runs now
        _h.Effects();
    }

    [Fact]
    public void Job_IsTheSchedulersRecordOfAnActiveJob_ElseTheStoresOfAnEndedOne()
    {
        Assert.Same(_h.Scheduler.GetJob(2), _h.Queries.Job(2));
        Assert.Equal(JobState.Completed, _h.Queries.Job(1)!.State);
        Assert.Null(_h.Queries.Job(42));
    }

    [Fact]
    public void Watch_AnswersEndedAndUnknownJobsAtOnce_AndWatchesTheRest()
    {
        var reply = _h.Queries.Watch(Peer("c"), 7, [1, 3, 42]);
        Assert.Equal(1, Assert.Single(reply.Finished).Id);
        Assert.Equal(42, Assert.Single(reply.Unknown));
        Assert.Equal(1, _h.Scheduler.WatchedJobs);
    }

    [Fact]
    public void AReleaseNamingThousandsOfJobs_SchedulesOnceAfterItsLastStep_SoTheBestOfThemRunsFirst()
    {
        var h = new SchedulerHarness();
        var low = h.Submit(Spec(hold: true)).Id;
        var urgent = h.Submit(Spec(hold: true, priority: 5)).Id;
        h.Hello("w1", slots: 1);
        Assert.Empty(h.Messages<DispatchJob>());

        // The urgent job's id comes after thousands of others: a later step than the low one's.
        var named = new List<long> { low };
        named.AddRange(Enumerable.Range(1000, 5000).Select(i => (long)i));
        named.Add(urgent);
        var reply = h.Queries.Change(new SetJobs(named, null, Hold: false), h.Now)!;
        Assert.Equal([low, urgent], reply.Changed.Select(j => j.Id));
        Assert.Equal([urgent], h.DispatchedIds()); // one scheduling run, when both were released: priority first
    }

    [Fact]
    public void ACancelNamingThousandsOfJobs_SchedulesOnceAfterItsLastStep_SoNoJobItNamesStartsInBetween()
    {
        var h = new SchedulerHarness();
        h.Scheduler.SetQueueLimit("q", 1, h.Now);
        var (running, next) = (h.Submit(Spec(queue: "q")).Id, h.Submit(Spec(queue: "q")).Id);
        h.Hello("w1", slots: 2, queues: ["q"]);
        Assert.Equal([running], h.DispatchedIds()); // the queue's cap holds the next one back

        // Its id comes after thousands of others: a later step than the running job's, whose cancel frees the cap.
        var named = new List<long> { running };
        named.AddRange(Enumerable.Range(1000, 5000).Select(i => (long)i));
        named.Add(next);
        var reply = h.Queries.Cancel(named, h.Now);
        Assert.Equal([running, next], reply.Cancelled.Select(j => j.Id));
        Assert.Empty(h.Messages<DispatchJob>()); // the next one never started
    }

    [Fact]
    public void Cancel_CancelsActiveJobs_AndTellsEndedFromUnknown()
    {
        var reply = _h.Queries.Cancel([1, 3, 42], _h.Now);
        Assert.Equal(3, Assert.Single(reply.Cancelled).Id);
        Assert.Equal(1, Assert.Single(reply.AlreadyEnded).Id);
        Assert.Equal(42, Assert.Single(reply.Unknown));
    }

    [Fact]
    public void GetJobs_PagesTheStore_AndReportsUnknownIds()
    {
        var reply = _h.Queries.GetJobs([1, 2, 42], null);
        Assert.Equal([1L, 2L], reply.Jobs.Select(j => j.Id));
        Assert.Equal(42, Assert.Single(reply.Unknown));
        var page = _h.Queries.GetJobs(null, null, afterId: 0, limit: 2);
        Assert.Equal([1L, 2L], page.Jobs.Select(j => j.Id));
        Assert.Equal(2, page.NextAfterId);
    }

    [Fact]
    public void ABatchSeenBefore_GetsTheJobsItMade_AsTheyAreNow()
    {
        Assert.Null(_h.Queries.SeenBatch("batch-2"));
        Assert.Null(_h.Queries.SeenBatch(null));
        Assert.Equal([(1L, JobState.Completed), (2L, JobState.Running), (3L, JobState.Waiting)],
            _h.Queries.SeenBatch("batch-1")!.Select(j => (j.Id, j.State)));
    }

    [Fact]
    public void ARunningJobRemovedWhileItsKillIsUnderWay_KeepsNoOutput_AndStaysRemoved()
    {
        _h.Queries.Cancel([2], _h.Now); // running: Cancelled for everyone, its slot held until the kill is confirmed
        Assert.NotNull(_h.Scheduler.OutputWriter("w1", 2, 1));
        var removed = _h.Queries.Remove([2], null, _h.Now);
        Assert.Equal([2L], removed.Removed);
        Assert.Null(_h.Scheduler.OutputWriter("w1", 2, 1));
        _h.Finish("w1", 2, attempt: 1, state: JobState.Cancelled, reason: "killed");
        Assert.Null(_h.Store.Get(2)); // not written back by the confirmation
        Assert.Contains(_h.Effects(), e => e.Message is DispatchJob { JobId: 3 }); // its slot is free again
    }

    [Fact]
    public void Remove_ForgetsEndedJobs_AndReportsActiveAndUnknownOnes()
    {
        var reply = _h.Queries.Remove([1, 2, 42], null, _h.Now);
        Assert.Equal([1L], reply.Removed);
        Assert.Equal([2L], reply.StillActive);
        Assert.Equal([42L], reply.Unknown);
        Assert.Null(_h.Store.Get(1));
    }

    [Fact]
    public void Dismiss_MarksEndedJobs_KeepsThem_AndReportsActiveAndUnknownOnes()
    {
        var reply = _h.Queries.Dismiss([1, 2, 42]);
        Assert.Equal([1L], reply.Dismissed);
        Assert.Equal([2L], reply.StillActive);
        Assert.Equal([42L], reply.Unknown);
        Assert.True(_h.Store.Get(1)!.Dismissed);
        Assert.False(_h.Queries.Job(2)!.Dismissed);
        Assert.Equal([1L], _h.Queries.Dismiss([1]).Dismissed); // again: still dismissed, nothing else changes
        Assert.Equal([2L, 3L], _h.Queries.GetJobs(null, null, filter: new JobFilter { Dismissed = false }).Jobs.Select(j => j.Id));
        Assert.Equal([1L], _h.Queries.GetJobs(null, null, filter: new JobFilter { Dismissed = true }).Jobs.Select(j => j.Id));
    }

    [Fact]
    public void ARunningJobDismissedWhileItsKillIsUnderWay_StaysDismissed_AndARestartBringsItBack()
    {
        _h.Queries.Cancel([2], _h.Now); // running: Cancelled for everyone, its record held until the kill is confirmed
        Assert.Equal([2L], _h.Queries.Dismiss([2]).Dismissed);
        _h.Finish("w1", 2, attempt: 1, state: JobState.Cancelled, reason: "killed");
        Assert.True(_h.Queries.Job(2)!.Dismissed, "the confirmation writes the job back with its mark");

        _h.Queries.Restart([2], includeDependents: false, _h.Now);
        Assert.False(_h.Queries.Job(2)!.Dismissed, "a new run is back in Get-Job");
    }

    [Fact]
    public void OfTheJobsAWorkerRunsThatTheSchedulerDoesNotHold_OnlyCancelledOnesAreStopped()
    {
        _h.Queries.Cancel([3], _h.Now); // waiting: ends at once
        var stops = _h.Queries.CancelledForeign([new RunningJobRef(3, 1), new RunningJobRef(1, 1), new RunningJobRef(42, 1)]).ToList();
        Assert.Equal([new CancelJob(3, 1)], stops);
    }
}
