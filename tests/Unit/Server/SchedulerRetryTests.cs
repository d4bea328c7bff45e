using Goq.Protocol;
using Goq.Server.Scheduling;
using static Goq.Tests.Server.SchedulerHarness;

namespace Goq.Tests.Server;

/// <summary>Running a job again: retries of a failed job (-RetryCount, -RetryDelaySec) and Restart-GoqJob, with the history of its runs.</summary>
public sealed class SchedulerRetryTests
{
    private readonly SchedulerHarness _h = new(new SchedulerOptions { DeadAfter = TimeSpan.FromSeconds(15) });

    public SchedulerRetryTests() => _h.Hello("w1");

    /// <summary>A run's end as these tests report it: a second long, with its CPU time and memory, and a failure's exit code as its reason.</summary>
    private JobInfo? Finish(long id, JobState state, int exitCode, string worker = "w1", int? attempt = null) =>
        _h.Finish(worker, id, attempt ?? _h.Job(id).Attempts, state, exitCode, state == JobState.Failed ? $"exit code {exitCode}" : null,
            ran: TimeSpan.FromSeconds(1), pid: 100, usage: new JobUsage(1_500_000, 250_000, 64 << 20));

    [Fact]
    public void AFailedJobWithRetriesLeft_RunsAgain_KeepingEachRun_AndItsWaitersHearOnlyOfTheLast()
    {
        var id = _h.Submit(Spec(retries: 2)).Id;
        _h.Scheduler.Watch(Peer("client"), 9, [id]);
        Assert.Equal([id], _h.DispatchedIds());

        Finish(id, JobState.Failed, 3);
        var job = _h.Job(id);
        Assert.Equal((JobState.Running, 1, 2), (job.State, job.Retries, job.Attempts)); // at once, in the slot it freed
        Assert.Equal([id], _h.DispatchedIds()); // and nobody was told it ended
        Finish(id, JobState.Failed, 4);
        Assert.Equal([id], _h.DispatchedIds());
        Assert.Equal(3, _h.Job(id).Attempts); // the lease counts on: a report from an earlier run is stale
        Assert.Null(Finish(id, JobState.Completed, 0, attempt: 2));

        Finish(id, JobState.Failed, 5);
        Assert.Equal([id], _h.Messages<JobFinishedNotice>().SelectMany(n => n.Jobs).Select(j => j.Id));
        job = _h.Job(id);
        Assert.Equal((JobState.Failed, 5, 2), (job.State, job.ExitCode, job.Retries));
        Assert.Equal([(1, 3), (2, 4)], job.History.Select(a => (a.Attempt, a.ExitCode!.Value)));
        Assert.All(job.History, a => Assert.Equal(TimeSpan.FromSeconds(1.75), a.CpuTime));
        Assert.Equal((TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.25), 64L << 20), (job.UserCpuTime!.Value, job.SystemCpuTime!.Value, job.MaxMemoryBytes!.Value));
    }

    [Fact]
    public void ADependentWaitsThroughItsDependencysRetries_AndRunsWhenOneSucceeds()
    {
        var flaky = _h.Submit(Spec(retries: 1)).Id;
        var next = _h.Submit(Spec(dependsOn: [flaky])).Id;
        _h.DispatchedIds();
        Finish(flaky, JobState.Failed, 1);
        Assert.Equal(JobState.Blocked, _h.Job(next).State);
        _h.DispatchedIds();
        Finish(flaky, JobState.Completed, 0);
        Assert.Equal([next], _h.DispatchedIds());
    }

    [Fact]
    public void ARetryDelay_KeepsTheJobWaitingUntilItsTime()
    {
        var id = _h.Submit(Spec(retries: 1, retryDelay: 60)).Id;
        _h.DispatchedIds();
        Finish(id, JobState.Failed, 1);
        Assert.StartsWith("retry 1 of 1 after: exit code 1; not before 1970-01-01 00:01", _h.Job(id).Reason);
        _h.Now = Epoch.AddSeconds(30);
        _h.Hello("w1");
        _h.Tick();
        Assert.Empty(_h.DispatchedIds());
        _h.Now = Epoch.AddSeconds(62);
        _h.Hello("w1");
        _h.Tick();
        Assert.Equal([id], _h.DispatchedIds());
    }

    [Fact]
    public void MaxAttemptsCountsWorkerLossesOfEachRun_AndALostRunIsKeptInTheHistory()
    {
        var id = _h.Submit(Spec(retries: 1, maxAttempts: 1)).Id;
        _h.DispatchedIds();
        _h.Start("w1", id, attempt: 1);
        _h.Now = Epoch.AddSeconds(20);
        _h.Gone("w1", dead: true); // out of attempts for this run: it fails, and is retried
        var job = _h.Job(id);
        Assert.Equal((JobState.Waiting, 1), (job.State, job.Retries));
        Assert.Contains("its worker was lost", job.History.Single().Reason);

        _h.Now = Epoch.AddSeconds(21);
        _h.Hello("w2");
        Assert.Equal([id], _h.DispatchedIds());
        Assert.NotNull(Finish(id, JobState.Completed, 0, worker: "w2"));
        Assert.Equal((JobState.Completed, 2), (_h.Job(id).State, _h.Job(id).Attempts));
    }

    [Fact]
    public void Restart_RunsAnEndedJobAgainUnderItsId_AndWithDependents_WhatBrokeOnIt()
    {
        var head = _h.Submit(Spec()).Id;
        var mid = _h.Submit(Spec(dependsOn: [head])).Id;
        var tail = _h.Submit(Spec(dependsOn: [mid])).Id;
        var cleanup = _h.Submit(Spec(dependsOn: [head], mode: DependencyMode.AfterNotOk)).Id;
        _h.DispatchedIds();
        Finish(head, JobState.Failed, 1);
        Assert.Equal((JobState.DependencyFailed, JobState.DependencyFailed), (_h.Job(mid).State, _h.Job(tail).State));
        _h.DispatchedIds();
        Finish(cleanup, JobState.Completed, 0);

        var alone = _h.Queries.Restart([head, cleanup + 100], includeDependents: false, _h.Now);
        Assert.Equal([head], alone.Changed.Select(j => j.Id));
        Assert.Equal([cleanup + 100], alone.Unknown);
        Assert.Equal(JobState.DependencyFailed, _h.Job(mid).State); // not asked for
        Assert.Equal([head], _h.Queries.Restart([head], false, _h.Now).Started.Select(j => j.Id)); // it has not ended now
        Assert.Equal([head], _h.DispatchedIds());
        Finish(head, JobState.Failed, 2);
        _h.DispatchedIds();

        var all = _h.Queries.Restart([head], includeDependents: true, _h.Now);
        Assert.Equal([head, mid, tail], all.Changed.Select(j => j.Id));
        Assert.Equal((JobState.Blocked, JobState.Blocked), (_h.Job(mid).State, _h.Job(tail).State));
        Assert.Equal([head], _h.DispatchedIds());
        Finish(head, JobState.Completed, 0);
        Assert.Equal([mid], _h.DispatchedIds());
        var restarted = _h.Job(head);
        Assert.Equal([1, 2], restarted.History.Select(a => a.Attempt));
        Assert.Equal((JobState.Completed, 3, 0), (restarted.State, restarted.Attempts, restarted.Retries));
    }

    [Fact]
    public void Restart_GivesAJobItsRetriesBack()
    {
        var id = _h.Submit(Spec(retries: 1)).Id;
        _h.DispatchedIds();
        Finish(id, JobState.Failed, 1);
        _h.DispatchedIds();
        Finish(id, JobState.Failed, 1);
        Assert.Equal(JobState.Failed, _h.Job(id).State);
        _h.Queries.Restart([id], false, _h.Now);
        _h.DispatchedIds();
        Finish(id, JobState.Failed, 1);
        Assert.Equal((JobState.Running, 1), (_h.Job(id).State, _h.Job(id).Retries));
    }

    [Fact]
    public void AFailedRunWhoseEndTheWorkerStillLists_IsNotHandedBackToIt_ItWaitsForItsRetry()
    {
        var id = _h.Submit(Spec(retries: 1, retryDelay: 30)).Id;
        Assert.Equal([id], _h.DispatchedIds());
        Finish(id, JobState.Failed, 3);
        // The worker's heartbeat crossed the ack: it still lists the run whose end it reported.
        _h.Advance(TimeSpan.FromSeconds(2));
        var outcome = _h.Hello("w1", running: [new(id, 1)]);
        Assert.Equal([new RunningJobRef(id, 1)], outcome.Foreign);
        var job = _h.Job(id);
        Assert.Equal((JobState.Waiting, null, 1), (job.State, job.WorkerId, job.Attempts));
        Assert.NotNull(job.NotBefore);
    }
}
