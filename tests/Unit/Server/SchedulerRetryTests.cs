using Goq.Protocol;
using Goq.Server;
using Goq.Storage;
using Goq.Server.Queries;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>Running a job again: retries of a failed job (-RetryCount, -RetryDelaySec) and Restart-GoqJob, with the history of its runs.</summary>
public sealed class SchedulerRetryTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private readonly InMemoryJobStore _store = new();
    private readonly Scheduler _scheduler;
    private readonly JobQueries _queries;

    public SchedulerRetryTests()
    {
        _scheduler = new Scheduler(_store, new SchedulerOptions { DeadAfter = TimeSpan.FromSeconds(15) }, Now);
        _queries = new JobQueries(_store, _scheduler);
        Hello(Now);
    }

    private void Hello(DateTimeOffset at, string id = "w1") =>
        _scheduler.WorkerHello(new PeerId(id), new WorkerHello(id, "host", 1, 1, [], "v", false), at);

    private static JobSpec Spec(int retries = 0, int delay = 0, int maxAttempts = 3, DependencyMode mode = DependencyMode.AfterOk, params long[] dependsOn) =>
        new() { Kind = JobKind.Shell, Command = "flaky", RetryCount = retries, RetryDelaySec = delay, MaxAttempts = maxAttempts, DependsOn = dependsOn, DependencyMode = mode };

    private JobInfo Job(long id) => _scheduler.GetJob(id) ?? _store.Get(id)!;

    private List<long> Dispatched() => _scheduler.TakeEffects().Select(e => e.Message).OfType<DispatchJob>().Select(d => d.JobId).ToList();

    private List<long> Notified() => _scheduler.TakeEffects().Select(e => e.Message).OfType<JobFinishedNotice>().SelectMany(n => n.Jobs).Select(j => j.Id).ToList();

    private JobInfo? Finish(long id, JobState state, int exitCode, string worker = "w1", int? attempt = null) =>
        _scheduler.JobFinished(new JobFinished(worker, id, attempt ?? Job(id).Attempts, state, exitCode, state == JobState.Failed ? $"exit code {exitCode}" : null,
            Now, Now.AddSeconds(1), 100, Usage: new JobUsage(1_500_000, 250_000, 64 << 20)));

    [Fact]
    public void AFailedJobWithRetriesLeft_RunsAgain_KeepingEachRun_AndItsWaitersHearOnlyOfTheLast()
    {
        var id = _scheduler.Submit([Spec(retries: 2)], Now)[0].Id;
        _scheduler.Watch(new PeerId("client"), 9, [id]);
        Assert.Equal([id], Dispatched());

        Finish(id, JobState.Failed, 3);
        var job = Job(id);
        Assert.Equal((JobState.Running, 1, 2), (job.State, job.Retries, job.Attempts)); // at once, in the slot it freed
        Assert.Equal([id], Dispatched()); // and nobody was told it ended
        Finish(id, JobState.Failed, 4);
        Assert.Equal([id], Dispatched());
        Assert.Equal(3, Job(id).Attempts); // the lease counts on: a report from an earlier run is stale
        Assert.Null(Finish(id, JobState.Completed, 0, attempt: 2));

        Finish(id, JobState.Failed, 5);
        Assert.Equal([id], Notified());
        job = Job(id);
        Assert.Equal((JobState.Failed, 5, 2), (job.State, job.ExitCode, job.Retries));
        Assert.Equal([(1, 3), (2, 4)], job.History.Select(a => (a.Attempt, a.ExitCode!.Value)));
        Assert.All(job.History, a => Assert.Equal(TimeSpan.FromSeconds(1.75), a.CpuTime));
        Assert.Equal((TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.25), 64L << 20), (job.UserCpuTime!.Value, job.SystemCpuTime!.Value, job.MaxMemoryBytes!.Value));
    }

    [Fact]
    public void ADependentWaitsThroughItsDependencysRetries_AndRunsWhenOneSucceeds()
    {
        var flaky = _scheduler.Submit([Spec(retries: 1)], Now)[0].Id;
        var next = _scheduler.Submit([Spec(dependsOn: flaky)], Now)[0].Id;
        Dispatched();
        Finish(flaky, JobState.Failed, 1);
        Assert.Equal(JobState.Blocked, Job(next).State);
        Dispatched();
        Finish(flaky, JobState.Completed, 0);
        Assert.Equal([next], Dispatched());
    }

    [Fact]
    public void ARetryDelay_KeepsTheJobWaitingUntilItsTime()
    {
        var id = _scheduler.Submit([Spec(retries: 1, delay: 60)], Now)[0].Id;
        Dispatched();
        Finish(id, JobState.Failed, 1);
        Assert.StartsWith("retry 1 of 1 after: exit code 1; not before 1970-01-01 00:01", Job(id).Reason);
        Hello(Now.AddSeconds(30));
        _scheduler.Tick(Now.AddSeconds(30));
        Assert.Empty(Dispatched());
        Hello(Now.AddSeconds(62));
        _scheduler.Tick(Now.AddSeconds(62));
        Assert.Equal([id], Dispatched());
    }

    [Fact]
    public void MaxAttemptsCountsWorkerLossesOfEachRun_AndALostRunIsKeptInTheHistory()
    {
        var id = _scheduler.Submit([Spec(retries: 1, maxAttempts: 1)], Now)[0].Id;
        Dispatched();
        _scheduler.JobStarted(new JobStarted("w1", id, 1, 100, Now));
        _scheduler.WorkerGone("w1", dead: true, Now.AddSeconds(20)); // out of attempts for this run: it fails, and is retried
        var job = Job(id);
        Assert.Equal((JobState.Waiting, 1), (job.State, job.Retries));
        Assert.Contains("its worker was lost", job.History.Single().Reason);

        Hello(Now.AddSeconds(21), "w2");
        Assert.Equal([id], Dispatched());
        Assert.NotNull(Finish(id, JobState.Completed, 0, worker: "w2"));
        Assert.Equal((JobState.Completed, 2), (Job(id).State, Job(id).Attempts));
    }

    [Fact]
    public void Restart_RunsAnEndedJobAgainUnderItsId_AndWithDependents_WhatBrokeOnIt()
    {
        var head = _scheduler.Submit([Spec()], Now)[0].Id;
        var mid = _scheduler.Submit([Spec(dependsOn: head)], Now)[0].Id;
        var tail = _scheduler.Submit([Spec(dependsOn: mid)], Now)[0].Id;
        var cleanup = _scheduler.Submit([Spec(mode: DependencyMode.AfterNotOk, dependsOn: head)], Now)[0].Id;
        Dispatched();
        Finish(head, JobState.Failed, 1);
        Assert.Equal((JobState.DependencyFailed, JobState.DependencyFailed), (Job(mid).State, Job(tail).State));
        Dispatched();
        Finish(cleanup, JobState.Completed, 0);

        var alone = _queries.Restart([head, cleanup + 100], includeDependents: false, Now);
        Assert.Equal([head], alone.Changed.Select(j => j.Id));
        Assert.Equal([cleanup + 100], alone.Unknown);
        Assert.Equal(JobState.DependencyFailed, Job(mid).State); // not asked for
        Assert.Equal([head], _queries.Restart([head], false, Now).Started.Select(j => j.Id)); // it has not ended now
        Assert.Equal([head], Dispatched());
        Finish(head, JobState.Failed, 2);
        Dispatched();

        var all = _queries.Restart([head], includeDependents: true, Now);
        Assert.Equal([head, mid, tail], all.Changed.Select(j => j.Id));
        Assert.Equal((JobState.Blocked, JobState.Blocked), (Job(mid).State, Job(tail).State));
        Assert.Equal([head], Dispatched());
        Finish(head, JobState.Completed, 0);
        Assert.Equal([mid], Dispatched());
        var restarted = Job(head);
        Assert.Equal([1, 2], restarted.History.Select(a => a.Attempt));
        Assert.Equal((JobState.Completed, 3, 0), (restarted.State, restarted.Attempts, restarted.Retries));
    }

    [Fact]
    public void Restart_GivesAJobItsRetriesBack()
    {
        var id = _scheduler.Submit([Spec(retries: 1)], Now)[0].Id;
        Dispatched();
        Finish(id, JobState.Failed, 1);
        Dispatched();
        Finish(id, JobState.Failed, 1);
        Assert.Equal(JobState.Failed, Job(id).State);
        _queries.Restart([id], false, Now);
        Dispatched();
        Finish(id, JobState.Failed, 1);
        Assert.Equal((JobState.Running, 1), (Job(id).State, Job(id).Retries));
    }

    [Fact]
    public void AFailedRunWhoseEndTheWorkerStillLists_IsNotHandedBackToIt_ItWaitsForItsRetry()
    {
        var id = _scheduler.Submit([Spec(retries: 1, delay: 30)], Now)[0].Id;
        Assert.Equal([id], Dispatched());
        Finish(id, JobState.Failed, 3);
        // The worker's heartbeat crossed the ack: it still lists the run whose end it reported.
        var outcome = _scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 1, [new RunningJobRef(id, 1)], "v", false), Now.AddSeconds(2));
        Assert.Equal([new RunningJobRef(id, 1)], outcome.Foreign);
        var job = Job(id);
        Assert.Equal((JobState.Waiting, null, 1), (job.State, job.WorkerId, job.Attempts));
        Assert.NotNull(job.NotBefore);
    }
}
