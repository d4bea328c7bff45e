using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Server.Queries;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>Where the scheduler's answers (the jobs it holds) and the store's (ended jobs, pages, batches) meet.</summary>
public sealed class JobQueriesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;
    private readonly JobQueries _queries;

    public JobQueriesTests()
    {
        _scheduler = new Scheduler(_store);
        _queries = new JobQueries(_store, _scheduler);
        _scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 1, [], "v", false), Now);
        _scheduler.Submit([Spec(), Spec(), Spec()], Now, "batch-1"); // 1 runs, 2 and 3 wait
        Assert.NotNull(_scheduler.JobFinished(new JobFinished("w1", 1, 1, JobState.Completed, 0, null, Now, Now))); // 2 runs now
        _scheduler.TakeEffects();
    }

    private static JobSpec Spec() => new() { Kind = JobKind.Shell, Command = "true" };

    [Fact]
    public void Job_IsTheSchedulersRecordOfAnActiveJob_ElseTheStoresOfAnEndedOne()
    {
        Assert.Same(_scheduler.GetJob(2), _queries.Job(2));
        Assert.Equal(JobState.Completed, _queries.Job(1)!.State);
        Assert.Null(_queries.Job(42));
    }

    [Fact]
    public void Watch_AnswersEndedAndUnknownJobsAtOnce_AndWatchesTheRest()
    {
        var reply = _queries.Watch(new PeerId("c"), 7, [1, 3, 42]);
        Assert.Equal(1, Assert.Single(reply.Finished).Id);
        Assert.Equal(42, Assert.Single(reply.Unknown));
        Assert.Equal(1, _scheduler.WatchedJobs);
    }

    [Fact]
    public void Cancel_CancelsActiveJobs_AndTellsEndedFromUnknown()
    {
        var reply = _queries.Cancel([1, 3, 42], Now);
        Assert.Equal(3, Assert.Single(reply.Cancelled).Id);
        Assert.Equal(1, Assert.Single(reply.AlreadyEnded).Id);
        Assert.Equal(42, Assert.Single(reply.Unknown));
    }

    [Fact]
    public void GetJobs_PagesTheStore_AndReportsUnknownIds()
    {
        var reply = _queries.GetJobs([1, 2, 42], null);
        Assert.Equal([1L, 2L], reply.Jobs.Select(j => j.Id));
        Assert.Equal(42, Assert.Single(reply.Unknown));
        var page = _queries.GetJobs(null, null, afterId: 0, limit: 2);
        Assert.Equal([1L, 2L], page.Jobs.Select(j => j.Id));
        Assert.Equal(2, page.NextAfterId);
    }

    [Fact]
    public void ABatchSeenBefore_GetsTheJobsItMade_AsTheyAreNow()
    {
        Assert.Null(_queries.SeenBatch("batch-2"));
        Assert.Null(_queries.SeenBatch(null));
        Assert.Equal([(1L, JobState.Completed), (2L, JobState.Running), (3L, JobState.Waiting)],
            _queries.SeenBatch("batch-1")!.Select(j => (j.Id, j.State)));
    }

    [Fact]
    public void ARunningJobRemovedWhileItsKillIsUnderWay_KeepsNoOutput_AndStaysRemoved()
    {
        _queries.Cancel([2], Now); // running: Cancelled for everyone, its slot held until the kill is confirmed
        Assert.NotNull(_scheduler.OutputWriter("w1", 2, 1));
        var removed = _queries.Remove([2], null);
        Assert.Equal([2L], removed.Removed);
        Assert.Null(_scheduler.OutputWriter("w1", 2, 1));
        _scheduler.JobFinished(new JobFinished("w1", 2, 1, JobState.Cancelled, null, "killed", Now, Now));
        Assert.Null(_store.Get(2)); // not written back by the confirmation
        Assert.Contains(_scheduler.TakeEffects(), e => e.Message is DispatchJob { JobId: 3 }); // its slot is free again
    }

    [Fact]
    public void Remove_ForgetsEndedJobs_AndReportsActiveAndUnknownOnes()
    {
        var reply = _queries.Remove([1, 2, 42], null);
        Assert.Equal([1L], reply.Removed);
        Assert.Equal([2L], reply.StillActive);
        Assert.Equal([42L], reply.Unknown);
        Assert.Null(_store.Get(1));
    }

    [Fact]
    public void Dismiss_MarksEndedJobs_KeepsThem_AndReportsActiveAndUnknownOnes()
    {
        var reply = _queries.Dismiss([1, 2, 42]);
        Assert.Equal([1L], reply.Dismissed);
        Assert.Equal([2L], reply.StillActive);
        Assert.Equal([42L], reply.Unknown);
        Assert.True(_store.Get(1)!.Dismissed);
        Assert.False(_queries.Job(2)!.Dismissed);
        Assert.Equal([1L], _queries.Dismiss([1]).Dismissed); // again: still dismissed, nothing else changes
        Assert.Equal([2L, 3L], _queries.GetJobs(null, null, filter: new JobFilter { Dismissed = false }).Jobs.Select(j => j.Id));
        Assert.Equal([1L], _queries.GetJobs(null, null, filter: new JobFilter { Dismissed = true }).Jobs.Select(j => j.Id));
    }

    [Fact]
    public void ARunningJobDismissedWhileItsKillIsUnderWay_StaysDismissed_AndARestartBringsItBack()
    {
        _queries.Cancel([2], Now); // running: Cancelled for everyone, its record held until the kill is confirmed
        Assert.Equal([2L], _queries.Dismiss([2]).Dismissed);
        _scheduler.JobFinished(new JobFinished("w1", 2, 1, JobState.Cancelled, null, "killed", Now, Now));
        Assert.True(_queries.Job(2)!.Dismissed, "the confirmation writes the job back with its mark");

        _queries.Restart([2], includeDependents: false, Now);
        Assert.False(_queries.Job(2)!.Dismissed, "a new run is back in Get-Job");
    }

    [Fact]
    public void OfTheJobsAWorkerRunsThatTheSchedulerDoesNotHold_OnlyCancelledOnesAreStopped()
    {
        _queries.Cancel([3], Now); // waiting: ends at once
        var stops = _queries.CancelledForeign([new RunningJobRef(3, 1), new RunningJobRef(1, 1), new RunningJobRef(42, 1)]).ToList();
        Assert.Equal([new CancelJob(3, 1)], stops);
    }
}
