using Goq.Protocol;
using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Array jobs: one record, tasks made in index order as they are needed, throttles, and the array's id standing for its tasks.</summary>
public sealed class SchedulerArrayTests
{
    private readonly SchedulerHarness _h = new(new SchedulerOptions());

    private static JobSpec Array(IEnumerable<int> indices, int throttle = 0, params long[] dependsOn) =>
        Spec("echo $GOQ_ARRAY_ID", array: [.. indices], throttle: throttle, dependsOn: dependsOn);

    private List<JobInfo> Tasks(long arrayId, params int[] indexes) =>
        _h.Queries.GetJobs([arrayId], null, filter: indexes.Length > 0 ? new JobFilter { ArrayIndexes = indexes } : null).Jobs.ToList();

    [Fact]
    public void AnArrayIsOneRecord_ItsTasksStartInIndexOrder_EachToldItsIndex_AndAreMadeOnlyAsNeeded()
    {
        var array = _h.Submit(Array([7, 3, 5, 1]));
        Assert.Equal((4, JobState.Waiting), (array.TaskCount, array.State));
        Assert.Null(_h.Store.Get(array.Id + 3)); // not made: the array is kept once
        Assert.Equal(1, _h.Store.Query(null, null).Count(j => j.ArrayJobId == array.Id)); // only the first task, in line

        _h.Hello("w1", 1);
        var first = Assert.Single(_h.Messages<DispatchJob>());
        Assert.Equal((array.Id + 1, new ArrayTask(array.Id, 1, 4)), (first.JobId, first.Spec.ArrayTask));
        Assert.Null(first.Spec.ArrayIndex);
        Assert.Equal(2, _h.Store.Query(null, null).Count(j => j.ArrayJobId == array.Id)); // the running one and the next in line

        var order = new List<int> { first.Spec.ArrayTask!.Index };
        for (var id = first.JobId; order.Count < 4;)
        {
            _h.End(id);
            var next = Assert.Single(_h.Messages<DispatchJob>());
            order.Add(next.Spec.ArrayTask!.Index);
            id = next.JobId;
        }

        Assert.Equal([1, 3, 5, 7], order);
        _h.End(array.Id + 4);
        Assert.Equal((JobState.Completed, "4 completed, 0 failed, 0 cancelled, 0 not run (DependencyFailed)"), (_h.Job(array.Id).State, _h.Job(array.Id).Reason));
    }

    [Fact]
    public void EveryTaskIsARowOfItsOwn_MadeOrNot_AndGetJobsByTheArraysIdListsThem()
    {
        var array = _h.Submit(Array(Enumerable.Range(10, 5)));
        _h.Hello("w1", 1);
        _h.Messages<DispatchJob>();
        var tasks = Tasks(array.Id);
        Assert.Equal(Enumerable.Range(10, 5), tasks.Select(t => t.ArrayIndex!.Value));
        Assert.Equal(Enumerable.Range(1, 5).Select(k => array.Id + k), tasks.Select(t => t.Id));
        Assert.Equal([JobState.Running, JobState.Waiting, JobState.Waiting, JobState.Waiting, JobState.Waiting], tasks.Select(t => t.State));
        Assert.All(tasks, t => Assert.Equal(array.Id, t.ArrayJobId));
        Assert.Equal([13], Tasks(array.Id, 13, 99).Select(t => t.ArrayIndex!.Value));
        Assert.Equal(5, _h.Queries.GetJobs(null, null).Jobs.Count); // every task listed (the array's own record is not a row)
        Assert.Equal((4, 1), (_h.Scheduler.WaitingJobs, _h.Scheduler.RunningJobs));
    }

    [Fact]
    public void Filters_ApplyToTasksNotMadeYet_AndCanLeaveArrayTasksOut()
    {
        var plain = _h.Submit(Spec());
        var array = _h.Submit(Array(Enumerable.Range(0, 50_000)) with { Queue = "sweep" });
        List<long> Ids(JobFilter filter) => _h.Queries.GetJobs(null, null, filter: filter).Jobs.Select(j => j.Id).ToList();
        Assert.Equal([plain.Id], Ids(new JobFilter { ArrayTasks = false }));
        Assert.Equal([plain.Id], Ids(new JobFilter { Queues = ["default"] }));
        Assert.Equal([array.Id + 1, array.Id + 43_001], Ids(new JobFilter { ArrayIndexes = [0, 43_000, 60_000] }));
        Assert.Equal(1000, Ids(new JobFilter { Queues = ["sweep"] }).Count); // a full page
    }

    [Fact]
    public void AThrottleLimit_CapsHowManyTasksRunAtOnce()
    {
        _h.Hello("w1", 4);
        var array = _h.Submit(Array(Enumerable.Range(0, 6), throttle: 2));
        var running = _h.Messages<DispatchJob>();
        Assert.Equal([0, 1], running.Select(d => d.Spec.ArrayTask!.Index));
        _h.End(running[0].JobId);
        Assert.Equal([2], _h.Messages<DispatchJob>().Select(d => d.Spec.ArrayTask!.Index));
        Assert.Equal(2, _h.Scheduler.IdleSlots); // two slots stay free
        Assert.Equal($"array {array.Id} is at its throttle limit of 2 running tasks", _h.Scheduler.WhyWaiting(array.Id + 4));
    }

    [Fact]
    public void StoppingTheArray_CancelsEveryTask_MadeOrNot_AndBreaksWhatDependsOnIt()
    {
        _h.Hello("w1", 1);
        var array = _h.Submit(Array(Enumerable.Range(0, 1000)));
        var after = _h.Submit(Spec(dependsOn: [array.Id]));
        _h.Messages<DispatchJob>();
        var reply = _h.Queries.Cancel([array.Id], _h.Now);
        Assert.Equal((array.Id, JobState.Cancelled), (Assert.Single(reply.Cancelled).Id, Assert.Single(reply.Cancelled).State)); // the array, not its 1,000 tasks
        Assert.Equal(JobState.Cancelled, _h.Job(array.Id).State);
        Assert.Equal(JobState.DependencyFailed, _h.Job(after.Id).State);
        Assert.All(Tasks(array.Id), t => Assert.Equal(JobState.Cancelled, t.State));
        Assert.Equal((0, 0), (_h.Scheduler.WaitingJobs, _h.Scheduler.BlockedJobs));
    }

    [Fact]
    public void AJobDependingOnAnArray_RunsWhenEveryTaskCompleted()
    {
        _h.Hello("w1", 2);
        var array = _h.Submit(Array([0, 1]));
        var after = _h.Submit(Spec(dependsOn: [array.Id]));
        Assert.Equal(JobState.Blocked, after.State);
        foreach (var task in _h.Messages<DispatchJob>())
        {
            _h.End(task.JobId);
        }

        Assert.Equal([after.Id], _h.Messages<DispatchJob>().Select(d => d.JobId));
    }

    [Fact]
    public void AnArrayWhoseDependencyFails_EndsEveryTaskDependencyFailed_AtOnce_HoweverMany()
    {
        _h.Hello("w1", 1);
        var head = _h.Submit(Spec());
        var array = _h.Submit(Array(Enumerable.Range(0, 10_000), dependsOn: head.Id));
        Assert.Equal(JobState.Blocked, _h.Job(array.Id).State);
        Assert.Equal(10_000, _h.Scheduler.BlockedJobs);
        _h.Messages<DispatchJob>();
        _h.End(head.Id, JobState.Failed);
        Assert.Equal(JobState.DependencyFailed, _h.Job(array.Id).State);
        Assert.Equal(10_000, _h.Store.Query(null, [JobState.DependencyFailed]).Count);
        Assert.Equal(0, _h.Scheduler.BlockedJobs);
    }

    [Fact]
    public void WatchingTheArraysId_WatchesItsTasks()
    {
        _h.Hello("w1", 1);
        var array = _h.Submit(Array([0, 1, 2]));
        var first = _h.Messages<DispatchJob>().Single();
        _h.End(first.JobId);
        var reply = _h.Queries.Watch(Peer("c"), 5, [array.Id]);
        Assert.Equal(new ArrayTasks(array.Id, array.Id + 1, 3), Assert.Single(reply.Arrays!));
        Assert.Equal([first.JobId], reply.Finished.Select(j => j.Id));
        Assert.Empty(reply.Unknown);
        var told = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            var effects = _h.Effects().Select(e => e.Message).ToList();
            told.AddRange(effects.OfType<JobFinishedNotice>().SelectMany(n => n.Jobs).Select(j => j.Id));
            _h.End(effects.OfType<DispatchJob>().Single().JobId);
        }

        told.AddRange(_h.Effects().Select(e => e.Message).OfType<JobFinishedNotice>().SelectMany(n => n.Jobs).Select(j => j.Id));
        Assert.Equal([array.Id + 2, array.Id + 3], told);
    }

    [Fact]
    public void ATaskNamedBeforeItIsMade_IsMadeForTheChange_AndTheOthersGoOn()
    {
        _h.Hello("w1", 1);
        var array = _h.Submit(Array([0, 1, 2, 3]));
        _h.Messages<DispatchJob>();
        Assert.Single(_h.Queries.Cancel([array.Id + 3], _h.Now).Cancelled);
        _h.Scheduler.Hold([array.Id + 4], _h.Now);
        Assert.Equal(JobState.Held, _h.Job(array.Id + 4).State);
        _h.End(array.Id + 1);
        Assert.Equal([array.Id + 2], _h.Messages<DispatchJob>().Select(d => d.JobId));
        _h.End(array.Id + 2);
        Assert.Empty(_h.Messages<DispatchJob>());
        _h.Scheduler.Release([array.Id + 4], _h.Now);
        Assert.Equal([array.Id + 4], _h.Messages<DispatchJob>().Select(d => d.JobId));
        _h.End(array.Id + 4);
        Assert.Equal(JobState.Cancelled, _h.Job(array.Id).State); // one cancelled, the rest completed
    }

    [Fact]
    public void HoldingTheArray_StopsItsTasksFromStarting_UntilReleased()
    {
        _h.Hello("w1", 1);
        var array = _h.Submit(Array([0, 1, 2]));
        _h.Messages<DispatchJob>();
        _h.Scheduler.Hold([array.Id], _h.Now);
        Assert.Equal(2, _h.Scheduler.HeldJobs);
        _h.End(array.Id + 1);
        Assert.Empty(_h.Messages<DispatchJob>());
        _h.Scheduler.Release([array.Id], _h.Now);
        Assert.Equal([array.Id + 2], _h.Messages<DispatchJob>().Select(d => d.JobId));
    }

    [Fact]
    public void RestartingAnArray_RunsItsEndedTasksAgain_AndTheArrayEndsAgainWithThem()
    {
        _h.Hello("w1", 1);
        var array = _h.Submit(Array([0, 1, 2]));
        _h.End(_h.Messages<DispatchJob>().Single().JobId);
        _h.End(_h.Messages<DispatchJob>().Single().JobId, JobState.Failed);
        _h.End(_h.Messages<DispatchJob>().Single().JobId);
        Assert.Equal(JobState.Failed, _h.Job(array.Id).State);

        var reply = _h.Queries.Restart([array.Id], includeDependents: false, _h.Now);
        Assert.Equal(3, reply.Changed.Count);
        Assert.Empty(reply.Started);
        Assert.Empty(reply.Unknown);
        Assert.Equal(JobState.Running, _h.Scheduler.GetArray(array.Id)!.State);
        for (var i = 0; i < 3; i++)
        {
            _h.End(_h.Messages<DispatchJob>().Single().JobId);
        }

        Assert.Equal(JobState.Completed, _h.Job(array.Id).State);
    }

    [Fact]
    public void RestartingARunningArray_RestartsOnlyItsEndedTasks_WithoutErrorsForTheOthers()
    {
        _h.Hello("w1", 1);
        var array = _h.Submit(Array([0, 1, 2]));
        _h.End(_h.Messages<DispatchJob>().Single().JobId, JobState.Failed);
        var reply = _h.Queries.Restart([array.Id], includeDependents: false, _h.Now);
        Assert.Equal([array.Id + 1], reply.Changed.Select(j => j.Id));
        Assert.Empty(reply.Started);
        Assert.Empty(reply.Unknown);
        var ran = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var next = _h.Messages<DispatchJob>().Single().JobId;
            ran.Add(next);
            _h.End(next);
        }

        Assert.Equal([array.Id + 1, array.Id + 2, array.Id + 3], ran.Order());
        Assert.Equal(JobState.Completed, _h.Job(array.Id).State);
    }

    [Fact]
    public void AfterARestart_AnArrayGoesOnWhereItWas_NothingRunsTwice()
    {
        _h.Hello("w1", 1);
        var array = _h.Submit(Array(Enumerable.Range(0, 5)));
        _h.End(_h.Messages<DispatchJob>().Single().JobId);
        var running = _h.Messages<DispatchJob>().Single();

        _h.Restart();
        _h.Hello("w1", 1, running: [new(running.JobId, running.Attempt)]); // still runs task 2
        Assert.Empty(_h.Messages<DispatchJob>());
        Assert.Equal(3, _h.Scheduler.WaitingJobs);
        var seen = new List<long> { running.JobId };
        _h.End(running.JobId);
        for (var i = 0; i < 3; i++)
        {
            var next = _h.Messages<DispatchJob>().Single();
            seen.Add(next.JobId);
            _h.End(next.JobId);
        }

        Assert.Equal(Enumerable.Range(2, 4).Select(k => array.Id + k), seen);
        Assert.Equal(JobState.Completed, _h.Job(array.Id).State);
    }

    [Fact]
    public void AHundredThousandTaskArray_IsListedPageByPage_EveryTaskOnce()
    {
        var array = _h.Submit(Array(Enumerable.Range(0, 100_000)));
        var seen = 0;
        long? after = 0;
        while (after is { } from)
        {
            var page = _h.Queries.GetJobs([array.Id], null, from);
            seen += page.Jobs.Count;
            after = page.NextAfterId;
        }

        Assert.Equal(100_000, seen);
        Assert.Equal(100_000, _h.Scheduler.WaitingJobs);
    }
}
