using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Scheduling;
using Goq.Server.Queries;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>Array jobs: one record, tasks made in index order as they are needed, throttles, and the array's id standing for its tasks.</summary>
public sealed class SchedulerArrayTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private Scheduler _scheduler;
    private JobQueries _queries;

    public SchedulerArrayTests()
    {
        _scheduler = new Scheduler(_store, new SchedulerOptions(), Now);
        _queries = new JobQueries(_store, _scheduler);
    }

    private void Worker(string id, int slots, params RunningJobRef[] running) =>
        _scheduler.WorkerHello(new PeerId(id), new WorkerHello(id, "host", 1, slots, running, "v", false), Now);

    private static JobSpec Array(IEnumerable<int> indices, int throttle = 0, params long[] dependsOn) =>
        new() { Kind = JobKind.Shell, Command = "echo $GOQ_ARRAY_ID", ArrayIndex = [.. indices], ThrottleLimit = throttle, DependsOn = dependsOn };

    private static JobSpec Plain(params long[] dependsOn) => new() { Kind = JobKind.Shell, Command = "true", DependsOn = dependsOn };

    private List<DispatchJob> Dispatched() => _scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().ToList();

    private void End(long id, JobState state = JobState.Completed, string worker = "w1") =>
        Assert.NotNull(_scheduler.JobFinished(new JobFinished(worker, id, _scheduler.GetJob(id)!.Attempts, state, state == JobState.Completed ? 0 : 1, null, Now, Now)));

    private JobInfo Job(long id) => _queries.Job(id)!;

    private List<JobInfo> Tasks(long arrayId, params int[] indexes) =>
        _queries.GetJobs([arrayId], null, filter: indexes.Length > 0 ? new JobFilter { ArrayIndexes = indexes } : null).Jobs.ToList();

    [Fact]
    public void AnArrayIsOneRecord_ItsTasksStartInIndexOrder_EachToldItsIndex_AndAreMadeOnlyAsNeeded()
    {
        var array = _scheduler.Submit([Array([7, 3, 5, 1])], Now).Single();
        Assert.Equal((4, JobState.Waiting), (array.TaskCount, array.State));
        Assert.Null(_store.Get(array.Id + 3)); // not made: the array is kept once
        Assert.Equal(1, _store.Query(null, null).Count(j => j.ArrayJobId == array.Id)); // only the first task, in line

        Worker("w1", 1);
        var first = Assert.Single(Dispatched());
        Assert.Equal((array.Id + 1, new ArrayTask(array.Id, 1, 4)), (first.JobId, first.Spec.ArrayTask));
        Assert.Null(first.Spec.ArrayIndex);
        Assert.Equal(2, _store.Query(null, null).Count(j => j.ArrayJobId == array.Id)); // the running one and the next in line

        var order = new List<int> { first.Spec.ArrayTask!.Index };
        for (var id = first.JobId; order.Count < 4;)
        {
            End(id);
            var next = Assert.Single(Dispatched());
            order.Add(next.Spec.ArrayTask!.Index);
            id = next.JobId;
        }

        Assert.Equal([1, 3, 5, 7], order);
        End(array.Id + 4);
        Assert.Equal((JobState.Completed, "4 completed, 0 failed, 0 cancelled, 0 not run (DependencyFailed)"), (Job(array.Id).State, Job(array.Id).Reason));
    }

    [Fact]
    public void EveryTaskIsARowOfItsOwn_MadeOrNot_AndGetJobsByTheArraysIdListsThem()
    {
        var array = _scheduler.Submit([Array(Enumerable.Range(10, 5))], Now).Single();
        Worker("w1", 1);
        Dispatched();
        var tasks = Tasks(array.Id);
        Assert.Equal(Enumerable.Range(10, 5), tasks.Select(t => t.ArrayIndex!.Value));
        Assert.Equal(Enumerable.Range(1, 5).Select(k => array.Id + k), tasks.Select(t => t.Id));
        Assert.Equal([JobState.Running, JobState.Waiting, JobState.Waiting, JobState.Waiting, JobState.Waiting], tasks.Select(t => t.State));
        Assert.All(tasks, t => Assert.Equal(array.Id, t.ArrayJobId));
        Assert.Equal([13], Tasks(array.Id, 13, 99).Select(t => t.ArrayIndex!.Value));
        Assert.Equal(5, _queries.GetJobs(null, null).Jobs.Count); // every task listed (the array's own record is not a row)
        Assert.Equal((4, 1), (_scheduler.WaitingJobs, _scheduler.RunningJobs));
    }

    [Fact]
    public void Filters_ApplyToTasksNotMadeYet_AndCanLeaveArrayTasksOut()
    {
        var plain = _scheduler.Submit([Plain()], Now).Single();
        var array = _scheduler.Submit([Array(Enumerable.Range(0, 50_000)) with { Queue = "sweep" }], Now).Single();
        List<long> Ids(JobFilter filter) => _queries.GetJobs(null, null, filter: filter).Jobs.Select(j => j.Id).ToList();
        Assert.Equal([plain.Id], Ids(new JobFilter { ArrayTasks = false }));
        Assert.Equal([plain.Id], Ids(new JobFilter { Queues = ["default"] }));
        Assert.Equal([array.Id + 1, array.Id + 43_001], Ids(new JobFilter { ArrayIndexes = [0, 43_000, 60_000] }));
        Assert.Equal(1000, Ids(new JobFilter { Queues = ["sweep"] }).Count); // a full page
    }

    [Fact]
    public void AThrottleLimit_CapsHowManyTasksRunAtOnce()
    {
        Worker("w1", 4);
        var array = _scheduler.Submit([Array(Enumerable.Range(0, 6), throttle: 2)], Now).Single();
        var running = Dispatched();
        Assert.Equal([0, 1], running.Select(d => d.Spec.ArrayTask!.Index));
        End(running[0].JobId);
        Assert.Equal([2], Dispatched().Select(d => d.Spec.ArrayTask!.Index));
        Assert.Equal(2, _scheduler.IdleSlots); // two slots stay free
        Assert.Equal($"array {array.Id} is at its throttle limit of 2 running tasks", _scheduler.WhyWaiting(array.Id + 4));
    }

    [Fact]
    public void StoppingTheArray_CancelsEveryTask_MadeOrNot_AndBreaksWhatDependsOnIt()
    {
        Worker("w1", 1);
        var array = _scheduler.Submit([Array(Enumerable.Range(0, 1000))], Now).Single();
        var after = _scheduler.Submit([Plain(array.Id)], Now).Single();
        Dispatched();
        var reply = _queries.Cancel([array.Id], Now);
        Assert.Equal((array.Id, JobState.Cancelled), (Assert.Single(reply.Cancelled).Id, Assert.Single(reply.Cancelled).State)); // the array, not its 1,000 tasks
        Assert.Equal(JobState.Cancelled, Job(array.Id).State);
        Assert.Equal(JobState.DependencyFailed, Job(after.Id).State);
        Assert.All(Tasks(array.Id), t => Assert.Equal(JobState.Cancelled, t.State));
        Assert.Equal((0, 0), (_scheduler.WaitingJobs, _scheduler.BlockedJobs));
    }

    [Fact]
    public void AJobDependingOnAnArray_RunsWhenEveryTaskCompleted()
    {
        Worker("w1", 2);
        var array = _scheduler.Submit([Array([0, 1])], Now).Single();
        var after = _scheduler.Submit([Plain(array.Id)], Now).Single();
        Assert.Equal(JobState.Blocked, after.State);
        foreach (var task in Dispatched())
        {
            End(task.JobId);
        }

        Assert.Equal([after.Id], Dispatched().Select(d => d.JobId));
    }

    [Fact]
    public void AnArrayWhoseDependencyFails_EndsEveryTaskDependencyFailed_AtOnce_HoweverMany()
    {
        Worker("w1", 1);
        var head = _scheduler.Submit([Plain()], Now).Single();
        var array = _scheduler.Submit([Array(Enumerable.Range(0, 10_000), dependsOn: head.Id)], Now).Single();
        Assert.Equal(JobState.Blocked, Job(array.Id).State);
        Assert.Equal(10_000, _scheduler.BlockedJobs);
        Dispatched();
        End(head.Id, JobState.Failed);
        Assert.Equal(JobState.DependencyFailed, Job(array.Id).State);
        Assert.Equal(10_000, _store.Query(null, [JobState.DependencyFailed]).Count);
        Assert.Equal(0, _scheduler.BlockedJobs);
    }

    [Fact]
    public void WatchingTheArraysId_WatchesItsTasks()
    {
        Worker("w1", 1);
        var array = _scheduler.Submit([Array([0, 1, 2])], Now).Single();
        var first = Dispatched().Single();
        End(first.JobId);
        var reply = _queries.Watch(new PeerId("c"), 5, [array.Id]);
        Assert.Equal(new ArrayTasks(array.Id, array.Id + 1, 3), Assert.Single(reply.Arrays!));
        Assert.Equal([first.JobId], reply.Finished.Select(j => j.Id));
        Assert.Empty(reply.Unknown);
        var told = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            var effects = _scheduler.TakeEffects().Select(e => e.Message).ToList();
            told.AddRange(effects.OfType<JobFinishedNotice>().SelectMany(n => n.Jobs).Select(j => j.Id));
            End(effects.OfType<DispatchJob>().Single().JobId);
        }

        told.AddRange(_scheduler.TakeEffects().Select(e => e.Message).OfType<JobFinishedNotice>().SelectMany(n => n.Jobs).Select(j => j.Id));
        Assert.Equal([array.Id + 2, array.Id + 3], told);
    }

    [Fact]
    public void ATaskNamedBeforeItIsMade_IsMadeForTheChange_AndTheOthersGoOn()
    {
        Worker("w1", 1);
        var array = _scheduler.Submit([Array([0, 1, 2, 3])], Now).Single();
        Dispatched();
        Assert.Single(_queries.Cancel([array.Id + 3], Now).Cancelled);
        _scheduler.Hold([array.Id + 4], Now);
        Assert.Equal(JobState.Held, Job(array.Id + 4).State);
        End(array.Id + 1);
        Assert.Equal([array.Id + 2], Dispatched().Select(d => d.JobId));
        End(array.Id + 2);
        Assert.Empty(Dispatched());
        _scheduler.Release([array.Id + 4], Now);
        Assert.Equal([array.Id + 4], Dispatched().Select(d => d.JobId));
        End(array.Id + 4);
        Assert.Equal(JobState.Cancelled, Job(array.Id).State); // one cancelled, the rest completed
    }

    [Fact]
    public void HoldingTheArray_StopsItsTasksFromStarting_UntilReleased()
    {
        Worker("w1", 1);
        var array = _scheduler.Submit([Array([0, 1, 2])], Now).Single();
        Dispatched();
        _scheduler.Hold([array.Id], Now);
        Assert.Equal(2, _scheduler.HeldJobs);
        End(array.Id + 1);
        Assert.Empty(Dispatched());
        _scheduler.Release([array.Id], Now);
        Assert.Equal([array.Id + 2], Dispatched().Select(d => d.JobId));
    }

    [Fact]
    public void RestartingAnArray_RunsItsEndedTasksAgain_AndTheArrayEndsAgainWithThem()
    {
        Worker("w1", 1);
        var array = _scheduler.Submit([Array([0, 1, 2])], Now).Single();
        End(Dispatched().Single().JobId);
        End(Dispatched().Single().JobId, JobState.Failed);
        End(Dispatched().Single().JobId);
        Assert.Equal(JobState.Failed, Job(array.Id).State);

        var reply = _queries.Restart([array.Id], includeDependents: false, Now);
        Assert.Equal(3, reply.Changed.Count);
        Assert.Empty(reply.Started);
        Assert.Empty(reply.Unknown);
        Assert.Equal(JobState.Running, _scheduler.GetArray(array.Id)!.State);
        for (var i = 0; i < 3; i++)
        {
            End(Dispatched().Single().JobId);
        }

        Assert.Equal(JobState.Completed, Job(array.Id).State);
    }

    [Fact]
    public void RestartingARunningArray_RestartsOnlyItsEndedTasks_WithoutErrorsForTheOthers()
    {
        Worker("w1", 1);
        var array = _scheduler.Submit([Array([0, 1, 2])], Now).Single();
        End(Dispatched().Single().JobId, JobState.Failed);
        var reply = _queries.Restart([array.Id], includeDependents: false, Now);
        Assert.Equal([array.Id + 1], reply.Changed.Select(j => j.Id));
        Assert.Empty(reply.Started);
        Assert.Empty(reply.Unknown);
        var ran = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var next = Dispatched().Single().JobId;
            ran.Add(next);
            End(next);
        }

        Assert.Equal([array.Id + 1, array.Id + 2, array.Id + 3], ran.Order());
        Assert.Equal(JobState.Completed, Job(array.Id).State);
    }

    [Fact]
    public void AfterARestart_AnArrayGoesOnWhereItWas_NothingRunsTwice()
    {
        Worker("w1", 1);
        var array = _scheduler.Submit([Array(Enumerable.Range(0, 5))], Now).Single();
        End(Dispatched().Single().JobId);
        var running = Dispatched().Single();

        _scheduler = new Scheduler(_store, new SchedulerOptions(), Now);
        _queries = new JobQueries(_store, _scheduler);
        Worker("w1", 1, new RunningJobRef(running.JobId, running.Attempt)); // still runs task 2
        Assert.Empty(Dispatched());
        Assert.Equal(3, _scheduler.WaitingJobs);
        var seen = new List<long> { running.JobId };
        End(running.JobId);
        for (var i = 0; i < 3; i++)
        {
            var next = Dispatched().Single();
            seen.Add(next.JobId);
            End(next.JobId);
        }

        Assert.Equal(Enumerable.Range(2, 4).Select(k => array.Id + k), seen);
        Assert.Equal(JobState.Completed, Job(array.Id).State);
    }

    [Fact]
    public void AHundredThousandTaskArray_IsListedPageByPage_EveryTaskOnce()
    {
        var array = _scheduler.Submit([Array(Enumerable.Range(0, 100_000))], Now).Single();
        var seen = 0;
        long? after = 0;
        while (after is { } from)
        {
            var page = _queries.GetJobs([array.Id], null, from);
            seen += page.Jobs.Count;
            after = page.NextAfterId;
        }

        Assert.Equal(100_000, seen);
        Assert.Equal(100_000, _scheduler.WaitingJobs);
    }
}
