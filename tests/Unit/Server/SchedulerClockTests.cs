using Goq.Protocol;
using Goq.Timing;
using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>
/// Durations run on the steady clock, stamps on the wall clock: a step of the wall clock (NTP, a VM resume) declares no
/// worker dead, starts no retry early and holds none back (issue 26.1).
/// </summary>
public sealed class SchedulerClockTests
{
    private static readonly DateTimeOffset Wall = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Steady = TimeSpan.FromHours(5);
    private static readonly SchedulerOptions Options = new() { DeadAfter = TimeSpan.FromSeconds(15), RestartGrace = TimeSpan.FromSeconds(15) };
    private readonly SchedulerHarness _h = new(Options, At(0));

    public SchedulerClockTests() => _h.Scheduler.Serving(_h.Now);

    // A moment: the wall clock has moved wallSeconds (steps included), the steady clock steadySeconds (what truly passed).
    private static Instant At(double steadySeconds, double wallSeconds = double.NaN) =>
        new(Wall.AddSeconds(double.IsNaN(wallSeconds) ? steadySeconds : wallSeconds), Steady + TimeSpan.FromSeconds(steadySeconds));

    [Fact]
    public void AForwardStepOfTheWallClock_DeclaresNoWorkerDead_OnlySilenceOnTheSteadyClockDoes()
    {
        _h.Hello("w1");
        _h.Hello("w2");
        var jobs = _h.Submit([Spec("a"), Spec("b")]);
        Assert.Equal(2, _h.DispatchedIds().Count);

        _h.Now = At(5);
        _h.Hello("w1", running: [new(jobs[0].Id, 1)]);
        _h.Hello("w2", running: [new(jobs[1].Id, 1)]);
        _h.Now = At(6, wallSeconds: 66); // the wall clock jumped a minute ahead; a second went by
        _h.Tick();

        Assert.Equal(2, _h.Scheduler.GetWorkers().Count);
        Assert.All(jobs, j => Assert.Equal((JobState.Running, 1), (_h.Scheduler.GetJob(j.Id)!.State, _h.Scheduler.GetJob(j.Id)!.Attempts)));
        Assert.Equal(0, _h.Store.Counters.DeadWorkerResubmits);

        _h.Now = At(10, wallSeconds: 70);
        _h.Hello("w1", running: [new(jobs[0].Id, 1)]);
        _h.Now = At(21, wallSeconds: 81); // w2 has been silent 16 s of steady time: lost; w1 was heard from 11 s ago
        _h.Tick();
        Assert.Equal(["w1"], _h.Scheduler.GetWorkers().Select(w => w.Id));
        Assert.Equal(JobState.Waiting, _h.Scheduler.GetJob(jobs[1].Id)!.State);
        Assert.Equal(Wall.AddSeconds(70), _h.Scheduler.GetWorkers()[0].LastSeen); // shown on the wall clock
    }

    [Fact]
    public void ABackwardStepOfTheWallClock_KeepsNoDeadWorkerAlive()
    {
        _h.Hello("w1");
        _h.Now = At(16, wallSeconds: -3600); // the wall clock went back an hour; 16 s of silence went by
        _h.Tick();
        Assert.Empty(_h.Scheduler.GetWorkers());
    }

    [Fact]
    public void ARetryDelay_RunsOnTheSteadyClock_WhicheverWayTheWallClockSteps()
    {
        _h.Hello("w1");
        var job = _h.Submit(Spec("flaky", retries: 1, retryDelay: 30));
        Assert.Equal([job.Id], _h.DispatchedIds());
        _h.Finish("w1", job.Id, attempt: 1, state: JobState.Failed, exitCode: 1, reason: "exit code 1", ran: TimeSpan.FromSeconds(1), pid: 100);
        Assert.Equal(Wall.AddSeconds(31), _h.Scheduler.GetJob(job.Id)!.NotBefore); // shown and stored on the wall clock

        _h.Now = At(2, wallSeconds: 3600); // an hour ahead on the wall: the delay has not passed
        _h.Tick();
        Assert.Empty(_h.DispatchedIds());
        Assert.Contains("not before", _h.Scheduler.GetJob(job.Id)!.Reason);

        _h.Now = At(20, wallSeconds: -3600);
        _h.Hello("w1");
        _h.Now = At(32, wallSeconds: -3600); // an hour behind on the wall: the delay has passed all the same
        _h.Tick();
        Assert.Equal([job.Id], _h.DispatchedIds());
    }

    [Fact]
    public void TheRestartGrace_RunsOnTheSteadyClock()
    {
        _h.Hello("w1");
        var job = _h.Submit(Spec("a"));
        _h.DispatchedIds();
        _h.Now = At(100);
        var after = _h.Restart();
        after.Serving(_h.Now);
        _h.Now = At(101, wallSeconds: 1000); // a wall step inside the grace: the job's worker still has time to come back
        _h.Tick();
        Assert.Equal(1, after.OrphanedJobs);
        _h.Now = At(116, wallSeconds: 1015);
        _h.Tick();
        Assert.Equal(0, after.OrphanedJobs);
        Assert.Equal(JobState.Waiting, after.GetJob(job.Id)!.State);
    }
}
