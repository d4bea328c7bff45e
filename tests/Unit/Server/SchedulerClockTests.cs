using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Timing;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>
/// Durations run on the steady clock, stamps on the wall clock: a step of the wall clock (NTP, a VM resume) declares no
/// worker dead, starts no retry early and holds none back (issue 26.1).
/// </summary>
public sealed class SchedulerClockTests
{
    private static readonly DateTimeOffset Wall = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Steady = TimeSpan.FromHours(5);
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;

    public SchedulerClockTests()
    {
        _scheduler = new Scheduler(_store, new SchedulerOptions { DeadAfter = TimeSpan.FromSeconds(15), RestartGrace = TimeSpan.FromSeconds(15) }, At(0));
        _scheduler.Serving(At(0));
    }

    // A moment: the wall clock has moved wallSeconds (steps included), the steady clock steadySeconds (what truly passed).
    private static Instant At(double steadySeconds, double wallSeconds = double.NaN) =>
        new(Wall.AddSeconds(double.IsNaN(wallSeconds) ? steadySeconds : wallSeconds), Steady + TimeSpan.FromSeconds(steadySeconds));

    private void Hello(string id, Instant at, params RunningJobRef[] running) =>
        _scheduler.WorkerHello(new PeerId(id), new WorkerHello(id, "host", 1, 1, running, "v", false), at);

    private List<long> Dispatched() => _scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId).ToList();

    [Fact]
    public void AForwardStepOfTheWallClock_DeclaresNoWorkerDead_OnlySilenceOnTheSteadyClockDoes()
    {
        Hello("w1", At(0));
        Hello("w2", At(0));
        var jobs = _scheduler.Submit([new JobSpec { Command = "a" }, new JobSpec { Command = "b" }], At(0));
        Assert.Equal(2, Dispatched().Count);

        Hello("w1", At(5), new RunningJobRef(jobs[0].Id, 1));
        Hello("w2", At(5), new RunningJobRef(jobs[1].Id, 1));
        _scheduler.Tick(At(6, wallSeconds: 66)); // the wall clock jumped a minute ahead; a second went by

        Assert.Equal(2, _scheduler.GetWorkers().Count);
        Assert.All(jobs, j => Assert.Equal((JobState.Running, 1), (_scheduler.GetJob(j.Id)!.State, _scheduler.GetJob(j.Id)!.Attempts)));
        Assert.Equal(0, _store.Counters.DeadWorkerResubmits);

        Hello("w1", At(10, wallSeconds: 70), new RunningJobRef(jobs[0].Id, 1));
        _scheduler.Tick(At(21, wallSeconds: 81)); // w2 has been silent 16 s of steady time: lost; w1 was heard from 11 s ago
        Assert.Equal(["w1"], _scheduler.GetWorkers().Select(w => w.Id));
        Assert.Equal(JobState.Waiting, _scheduler.GetJob(jobs[1].Id)!.State);
        Assert.Equal(Wall.AddSeconds(70), _scheduler.GetWorkers()[0].LastSeen); // shown on the wall clock
    }

    [Fact]
    public void ABackwardStepOfTheWallClock_KeepsNoDeadWorkerAlive()
    {
        Hello("w1", At(0));
        _scheduler.Tick(At(16, wallSeconds: -3600)); // the wall clock went back an hour; 16 s of silence went by
        Assert.Empty(_scheduler.GetWorkers());
    }

    [Fact]
    public void ARetryDelay_RunsOnTheSteadyClock_WhicheverWayTheWallClockSteps()
    {
        Hello("w1", At(0));
        var job = _scheduler.Submit([new JobSpec { Command = "flaky", RetryCount = 1, RetryDelaySec = 30 }], At(0))[0];
        Assert.Equal([job.Id], Dispatched());
        _scheduler.JobFinished(new JobFinished("w1", job.Id, 1, JobState.Failed, 1, "exit code 1", Wall, Wall.AddSeconds(1), 100));
        Assert.Equal(Wall.AddSeconds(31), _scheduler.GetJob(job.Id)!.NotBefore); // shown and stored on the wall clock

        _scheduler.Tick(At(2, wallSeconds: 3600)); // an hour ahead on the wall: the delay has not passed
        Assert.Empty(Dispatched());
        Assert.Contains("not before", _scheduler.GetJob(job.Id)!.Reason);

        Hello("w1", At(20, wallSeconds: -3600));
        _scheduler.Tick(At(32, wallSeconds: -3600)); // an hour behind on the wall: the delay has passed all the same
        Assert.Equal([job.Id], Dispatched());
    }

    [Fact]
    public void TheRestartGrace_RunsOnTheSteadyClock()
    {
        Hello("w1", At(0));
        var job = _scheduler.Submit([new JobSpec { Command = "a" }], At(0))[0];
        Dispatched();
        var after = new Scheduler(_store, new SchedulerOptions { DeadAfter = TimeSpan.FromSeconds(15), RestartGrace = TimeSpan.FromSeconds(15) }, At(100));
        after.Serving(At(100));
        after.Tick(At(101, wallSeconds: 1000)); // a wall step inside the grace: the job's worker still has time to come back
        Assert.Equal(1, after.OrphanedJobs);
        after.Tick(At(116, wallSeconds: 1015));
        Assert.Equal(0, after.OrphanedJobs);
        Assert.Equal(JobState.Waiting, after.GetJob(job.Id)!.State);
    }
}
