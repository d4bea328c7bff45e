using Goq.Server.Scheduling;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>The scheduler's parts that own state of their own, each alone: the restart grace and the placement of jobs.</summary>
public sealed class SchedulerPartsTests
{
    private static readonly DateTimeOffset Wall = DateTimeOffset.UnixEpoch;

    private static Instant At(double seconds) => new(Wall.AddSeconds(seconds), TimeSpan.FromSeconds(seconds));

    [Fact]
    public void TheRestartGrace_CountsFromWhenTheServerListens_OnTheSteadyClock_AndHandsBackOnlyUnclaimedJobs()
    {
        var grace = new RestartGrace(TimeSpan.FromSeconds(10), At(0));
        grace.Orphaned(1);
        grace.Orphaned(2);
        grace.Orphaned(3);
        grace.Serving(At(5)); // a slow start does not eat the workers' time
        Assert.True(grace.Claimed(2));
        Assert.False(grace.Claimed(2));

        Assert.Empty(grace.TakeUnclaimed(At(14)));
        Assert.Empty(grace.TakeUnclaimed(new Instant(Wall.AddHours(1), TimeSpan.FromSeconds(14)))); // a wall step changes nothing
        Assert.Equal([3L, 1L], grace.TakeUnclaimed(At(15)));
        Assert.Empty(grace.Orphans);
        Assert.Empty(grace.TakeUnclaimed(At(16)));
    }

    [Fact]
    public void APlacedJob_IsHeld_ThenBlocked_ThenWaitingForItsTime_ThenInTheQueue_InThatOrder()
    {
        var jobs = new JobTable();
        var waiting = new WaitingPool();
        var dependencies = new DependencyGraph();
        var placement = new JobPlacement(jobs, waiting, dependencies);
        var job = new JobInfo { Id = 2, State = JobState.Waiting, Command = "true", NotBefore = Wall.AddSeconds(30) };
        jobs.Add(job, new JobSpec { Kind = JobKind.Shell, Command = "true" });
        dependencies.Add(2, DependencyMode.AfterOk, [(1, null)]);
        placement.Hold(2);
        placement.NotBefore(2, Wall.AddSeconds(30));

        placement.Place(job, At(0));
        Assert.Equal(JobState.Held, job.State);
        Assert.StartsWith("held: Resume-GoqJob releases it; then not before", job.Reason);

        placement.Release(2); // a release ends the hold and the time
        placement.NotBefore(2, Wall.AddSeconds(30));
        placement.Place(job, At(0));
        Assert.Equal(JobState.Blocked, job.State);

        dependencies.Ended(1, JobState.Completed);
        placement.Place(job, At(0));
        Assert.Equal((JobState.Waiting, true, false), (job.State, placement.Delayed.Contains(2), waiting.Contains(2)));
        Assert.Empty(placement.TakeDue(At(29)));

        var due = Assert.Single(placement.TakeDue(At(30)));
        placement.Place(due, At(30));
        Assert.Equal((JobState.Waiting, null, false, true), (job.State, job.Reason, placement.Delayed.Contains(2), waiting.Contains(2)));
    }

    [Fact]
    public void TheDispatcher_MatchesOnlyWhenAsked_OnceHoweverOftenAsked_AndAsManyJobsAsTheWorkerHasSlots()
    {
        var jobs = new JobTable();
        var waiting = new WaitingPool();
        var workers = new WorkerPool();
        var dispatcher = new Dispatcher(waiting, workers, new RunLimits(), new KeptByPlace(jobs, waiting, 100), new SchedulerOptions());
        var worker = new WorkerEntry("w1", new PeerId("w1")) { Slots = 2 };
        workers.Add(worker);
        workers.Refresh(worker); // in line for jobs, as a hello puts it
        foreach (var id in new long[] { 1, 2, 3 })
        {
            var job = new JobInfo { Id = id, State = JobState.Waiting, Command = "true" };
            jobs.Add(job, new JobSpec { Kind = JobKind.Shell, Command = "true" });
            waiting.Add(job, TimeSpan.Zero);
        }

        var handed = new List<long>();
        void Hand(WorkerEntry to, JobInfo job)
        {
            waiting.Remove(job.Id);
            to.Running.Add(job.Id, job.SlotCount);
            handed.Add(job.Id);
        }

        dispatcher.RunIfAsked(At(0), Hand);
        Assert.Empty(handed); // nothing asked for scheduling

        dispatcher.Ask();
        dispatcher.Ask();
        dispatcher.RunIfAsked(At(0), Hand);
        Assert.Equal([1L, 2L], handed); // first come first served, as many as its slots
        dispatcher.RunIfAsked(At(0), Hand);
        Assert.Equal([1L, 2L], handed); // asked twice, run once
    }

    [Fact]
    public void Leases_LetOnlyTheCurrentAttemptsWorkerChangeARunningJob_AndAKilledOneWriteUntilItsKillIsConfirmed()
    {
        var jobs = new JobTable();
        var leases = new Leases(jobs);
        var job = new JobInfo { Id = 1, State = JobState.Running, Command = "true", WorkerId = "w1", Attempts = 2 };
        jobs.Add(job, new JobSpec { Kind = JobKind.Shell, Command = "true" });
        Assert.True(leases.IsCurrent("w1", 1, 2, out _));
        Assert.False(leases.IsCurrent("w1", 1, 1, out _)); // an earlier attempt's report is stale
        Assert.False(leases.IsCurrent("w2", 1, 2, out _));

        jobs.Remove(1, out _); // cancelled: it ended for everyone, its worker kills it
        leases.Killing(job);
        Assert.False(leases.IsCurrent("w1", 1, 2, out _));
        Assert.Same(job, leases.OutputWriter("w1", 1, 2));
        leases.Removed([1L]); // Remove-GoqJob -Force meanwhile: it keeps no output
        Assert.Null(leases.OutputWriter("w1", 1, 2));
        Assert.Null(leases.KillConfirmed("w1", 1, 1));
        Assert.Same(job, leases.KillConfirmed("w1", 1, 2));
        Assert.True(leases.WasRemoved(1));
        Assert.False(leases.IsKilling(1, out _));

        leases.TakenFrom(7, "w3", 1);
        Assert.False(leases.MayTakeBack("w3", 7, 2));
        Assert.True(leases.MayTakeBack("w3", 7, 1));
        var queuedAgain = new JobInfo { Id = 7, State = JobState.Waiting, Command = "true", Attempts = 1 };
        jobs.Add(queuedAgain, new JobSpec { Kind = JobKind.Shell, Command = "true" });
        Assert.Same(queuedAgain, leases.OutputWriter("w3", 7, 1)); // its late end comes with the last of its lines
        Assert.Null(leases.OutputWriter("w3", 7, 2));
        leases.ForgetTakeBack(7); // handed out again meanwhile
        Assert.False(leases.MayTakeBack("w3", 7, 1));
    }
}
