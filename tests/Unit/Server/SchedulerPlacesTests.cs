using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Tests.Support;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>
/// A large queue kept mostly by place (<see cref="SchedulerOptions.WholeWaitingJobs"/> set small here): jobs kept by
/// place are handed out in the same order, with their own specs, named ones can be cancelled, held and reprioritized,
/// a job can depend on one, and a restart from a real SQLite store brings them back by place.
/// </summary>
public sealed class SchedulerPlacesTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private static readonly SchedulerOptions Options = new() { WholeWaitingJobs = 10 };
    private readonly TempDir _dir = new();
    private SqliteJobStore _store;
    private Scheduler _scheduler;

    public SchedulerPlacesTests()
    {
        _store = new SqliteJobStore(_dir.Combine("goq.db"));
        _scheduler = new Scheduler(_store, Options, Now);
    }

    private static JobSpec Spec(int i, int priority = 0, string queue = JobSpec.DefaultQueue) =>
        new() { Kind = JobKind.Shell, Command = $"job {i}", Priority = priority, Queue = queue };

    private void Hello(string worker, int slots = 1) =>
        _scheduler.WorkerHello(new PeerId(worker), new WorkerHello(worker, "host", 1, slots, [], "v", false), Now);

    private List<DispatchJob> Dispatches() => _scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().ToList();

    // Runs every waiting job on one worker of one slot, committing as the server does; returns the dispatches in order.
    private List<DispatchJob> RunAll(string worker = "w1")
    {
        Hello(worker);
        var ran = new List<DispatchJob>();
        while (Dispatches() is [var next])
        {
            ran.Add(next);
            _store.Commit();
            _scheduler.JobFinished(new JobFinished(worker, next.JobId, next.Attempt, JobState.Completed, 0, null, Now, Now));
        }

        return ran;
    }

    [Fact]
    public void JobsKeptByPlace_AreHandedOutInPriorityThenArrivalOrder_EachWithItsOwnSpec()
    {
        var jobs = _scheduler.Submit(Enumerable.Range(0, 100).Select(i => Spec(i, priority: i % 7 == 0 ? 3 : 0)).ToList(), Now);
        _store.Commit();
        Assert.Equal(100, _scheduler.WaitingJobs);
        Assert.Equal(90, _scheduler.JobsKeptByPlace);
        Assert.Null(_scheduler.GetJob(jobs[50].Id)); // not held whole: the store has it

        var ran = RunAll();
        var expected = jobs.OrderByDescending(j => j.Priority).ThenBy(j => j.Id).Select(j => j.Id).ToList();
        Assert.Equal(expected, ran.Select(d => d.JobId));
        Assert.All(ran, d => Assert.Equal($"job {d.JobId - 1}", d.Spec.Command));
        Assert.Equal(0, _scheduler.WaitingJobs);
        Assert.Equal(0, _scheduler.JobsKeptByPlace);
        Assert.Equal(0, _scheduler.RunningJobs);
    }

    [Fact]
    public void NamedJobsKeptByPlace_CanBeCancelledHeldAndReprioritized_AndDependedOn()
    {
        var jobs = _scheduler.Submit(Enumerable.Range(0, 50).Select(i => Spec(i)).ToList(), Now);
        _store.Commit();
        long cancel = jobs[40].Id, hold = jobs[41].Id, urgent = jobs[42].Id;
        var dependent = _scheduler.Submit([Spec(99) with { DependsOn = [jobs[45].Id] }], Now)[0];
        Assert.Equal(JobState.Blocked, dependent.State);

        var cancelled = _scheduler.Cancel([cancel], Now);
        Assert.Equal(cancel, Assert.Single(cancelled.Cancelled).Id);
        Assert.Equal(JobState.Held, Assert.Single(_scheduler.Hold([hold], Now).Changed).State);
        Assert.Equal(9, Assert.Single(_scheduler.SetPriority([urgent], 9).Changed).Priority);
        Assert.Equal(48, _scheduler.WaitingJobs);
        _store.Commit();

        var ran = RunAll().Select(d => d.JobId).ToList();
        Assert.Equal(urgent, ran[0]);
        Assert.DoesNotContain(cancel, ran);
        Assert.DoesNotContain(hold, ran);
        Assert.Equal(dependent.Id, ran[^1]); // released when the job it depends on ended
        Assert.Equal(49, ran.Count);
        Assert.Equal(1, _scheduler.HeldJobs);
    }

    [Fact]
    public void ARestart_BringsTheQueueBackByPlace_InTheSameOrder()
    {
        var jobs = _scheduler.Submit(Enumerable.Range(0, 60).Select(i => Spec(i, priority: i % 5 == 0 ? 2 : 0, queue: i % 2 == 0 ? "even" : "odd")).ToList(), Now);
        _scheduler.Hold([jobs[3].Id], Now);
        _store.Commit();
        _store.Dispose();

        _store = new SqliteJobStore(_dir.Combine("goq.db"));
        _scheduler = new Scheduler(_store, Options, Now);
        Assert.Equal(59, _scheduler.WaitingJobs);
        Assert.Equal(1, _scheduler.HeldJobs);
        Assert.Equal(49, _scheduler.JobsKeptByPlace); // the held job is whole, and so are the first ten waiting
        Assert.Equal(30, _scheduler.GetQueues().Single(q => q.Name == "even").WaitingJobs);

        _scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 1, [], "v", false, Queues: ["even", "odd"]), Now);
        var ran = new List<DispatchJob>();
        while (Dispatches() is [var next])
        {
            ran.Add(next);
            _scheduler.JobFinished(new JobFinished("w1", next.JobId, next.Attempt, JobState.Completed, 0, null, Now, Now));
        }

        var expected = jobs.Where(j => j.Id != jobs[3].Id).OrderByDescending(j => j.Priority).ThenBy(j => j.Id).Select(j => j.Id).ToList();
        Assert.Equal(expected, ran.Select(d => d.JobId));
        Assert.All(ran, d => Assert.Equal($"job {d.JobId - 1}", d.Spec.Command));
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }
}
