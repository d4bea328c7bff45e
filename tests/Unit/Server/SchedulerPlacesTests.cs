using Goq.Protocol;
using Goq.Storage;
using Goq.Tests.Support;
using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>
/// A large queue kept mostly by place (<see cref="SchedulerOptions.WholeWaitingJobs"/> set small here): jobs kept by
/// place are handed out in the same order, with their own specs, named ones can be cancelled, held and reprioritized,
/// a job can depend on one, and a restart from a real SQLite store brings them back by place.
/// </summary>
public sealed class SchedulerPlacesTests : IDisposable
{
    private static readonly SchedulerOptions Options = new() { WholeWaitingJobs = 10 };
    private readonly TempDir _dir = new();
    private readonly SchedulerHarness _h;

    public SchedulerPlacesTests() => _h = new(Options, store: new SqliteJobStore(_dir.Combine("goq.db")));

    // Runs every waiting job on one worker of one slot, committing as the server does; returns the dispatches in order.
    private List<DispatchJob> RunAll(string worker = "w1")
    {
        _h.Hello(worker);
        var ran = new List<DispatchJob>();
        while (_h.Messages<DispatchJob>() is [var next])
        {
            ran.Add(next);
            _h.Store.Commit();
            _h.Finish(worker, next.JobId, next.Attempt);
        }

        return ran;
    }

    [Fact]
    public void JobsKeptByPlace_AreHandedOutInPriorityThenArrivalOrder_EachWithItsOwnSpec()
    {
        var jobs = _h.Submit(Enumerable.Range(0, 100).Select(i => Spec($"job {i}", priority: i % 7 == 0 ? 3 : 0)).ToList());
        _h.Store.Commit();
        Assert.Equal(100, _h.Scheduler.WaitingJobs);
        Assert.Equal(90, _h.Scheduler.JobsKeptByPlace);
        Assert.Null(_h.Scheduler.GetJob(jobs[50].Id)); // not held whole: the store has it

        var ran = RunAll();
        var expected = jobs.OrderByDescending(j => j.Priority).ThenBy(j => j.Id).Select(j => j.Id).ToList();
        Assert.Equal(expected, ran.Select(d => d.JobId));
        Assert.All(ran, d => Assert.Equal($"job {d.JobId - 1}", d.Spec.Command));
        Assert.Equal(0, _h.Scheduler.WaitingJobs);
        Assert.Equal(0, _h.Scheduler.JobsKeptByPlace);
        Assert.Equal(0, _h.Scheduler.RunningJobs);
    }

    [Fact]
    public void NamedJobsKeptByPlace_CanBeCancelledHeldAndReprioritized_AndDependedOn()
    {
        var jobs = _h.Submit(Enumerable.Range(0, 50).Select(i => Spec($"job {i}")).ToList());
        _h.Store.Commit();
        long cancel = jobs[40].Id, hold = jobs[41].Id, urgent = jobs[42].Id;
        var dependent = _h.Submit(Spec("job 99", dependsOn: [jobs[45].Id]));
        Assert.Equal(JobState.Blocked, dependent.State);

        _h.Scheduler.ReadBack(_h.Store, [cancel, hold, urgent]); // the server's read step before a request that names them
        var cancelled = _h.Scheduler.Cancel([cancel], _h.Now);
        Assert.Equal(cancel, Assert.Single(cancelled.Cancelled).Id);
        Assert.Equal(JobState.Held, Assert.Single(_h.Scheduler.Hold([hold], _h.Now).Changed).State);
        Assert.Equal(9, Assert.Single(_h.Scheduler.SetPriority([urgent], 9, _h.Now).Changed).Priority);
        Assert.Equal(48, _h.Scheduler.WaitingJobs);
        _h.Store.Commit();

        var ran = RunAll().Select(d => d.JobId).ToList();
        Assert.Equal(urgent, ran[0]);
        Assert.DoesNotContain(cancel, ran);
        Assert.DoesNotContain(hold, ran);
        Assert.Equal(dependent.Id, ran[^1]); // released when the job it depends on ended
        Assert.Equal(49, ran.Count);
        Assert.Equal(1, _h.Scheduler.HeldJobs);
    }

    [Fact]
    public void ARestart_BringsTheQueueBackByPlace_InTheSameOrder()
    {
        var jobs = _h.Submit(Enumerable.Range(0, 60).Select(i => Spec($"job {i}", priority: i % 5 == 0 ? 2 : 0, queue: i % 2 == 0 ? "even" : "odd")).ToList());
        _h.Scheduler.Hold([jobs[3].Id], _h.Now);
        _h.Store.Commit();
        _h.Store.Dispose();

        _h.Restart(new SqliteJobStore(_dir.Combine("goq.db")));
        Assert.Equal(59, _h.Scheduler.WaitingJobs);
        Assert.Equal(1, _h.Scheduler.HeldJobs);
        Assert.Equal(49, _h.Scheduler.JobsKeptByPlace); // the held job is whole, and so are the first ten waiting
        Assert.Equal(30, _h.Scheduler.GetQueues().Single(q => q.Name == "even").WaitingJobs);

        _h.Hello("w1", queues: ["even", "odd"]);
        var ran = new List<DispatchJob>();
        while (_h.Messages<DispatchJob>() is [var next])
        {
            ran.Add(next);
            _h.Finish("w1", next.JobId, next.Attempt);
        }

        var expected = jobs.Where(j => j.Id != jobs[3].Id).OrderByDescending(j => j.Priority).ThenBy(j => j.Id).Select(j => j.Id).ToList();
        Assert.Equal(expected, ran.Select(d => d.JobId));
        Assert.All(ran, d => Assert.Equal($"job {d.JobId - 1}", d.Spec.Command));
    }

    [Fact]
    public void NoEventReadsTheStore_AHeadKeptByPlaceWaitsForTheReadStep_AndNoJobOvertakesIt()
    {
        var jobs = _h.Submit(Enumerable.Range(0, 30).Select(i => Spec($"job {i}", priority: i == 25 ? 5 : 0)).ToList());
        _h.Store.Commit();
        Assert.Equal(20, _h.Scheduler.JobsKeptByPlace); // the urgent one (job 25) among them

        // The hello as an event alone, without the read step the server performs after it.
        _h.Scheduler.WorkerHello(Peer("w1"), new WorkerHello("w1", "host", 1, 100, [], "v", false), _h.Now);
        Assert.Empty(_h.Port.Take()); // the best head (the urgent job) is kept by place: nothing overtakes it

        Assert.True(_h.Scheduler.ReadAhead(_h.Store, _h.Now));
        var handed = _h.Port.Take().Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId).ToList();
        Assert.Equal(jobs[25].Id, handed[0]);
        _h.ReadAhead();
        handed.AddRange(_h.Port.Take().Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId));
        Assert.Equal(jobs.OrderByDescending(j => j.Priority).ThenBy(j => j.Id).Select(j => j.Id), handed);
        Assert.False(_h.Scheduler.ReadAhead(_h.Store, _h.Now)); // nothing left to read
    }

    public void Dispose()
    {
        _h.Store.Dispose();
        _dir.Dispose();
    }
}
