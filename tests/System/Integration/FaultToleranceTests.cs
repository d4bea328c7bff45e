using System.Diagnostics;
using Goq.Client;
using Goq.Protocol;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

[Collection(RealProcessesCollection.Name)]
public sealed class FaultToleranceTests : IDisposable
{
    // Short heartbeats keep the test quick; not so short that a loaded machine makes live workers look dead.
    private readonly Cluster _cluster = new(heartbeatMs: 600, durable: true);

    private JobSpec Spec(string command, int maxAttempts = 3, int? timeoutSec = null) =>
        new() { Kind = JobKind.Shell, Command = command, WorkingDirectory = _cluster.Home.Path, MaxAttempts = maxAttempts, TimeoutSec = timeoutSec };

    [Fact]
    public async Task SilentWorker_IsDeclaredDead_ItsJobRunsElsewhere_AndItsLateReportIsIgnored()
    {
        // Queued first: the deaf worker gets it the moment it announces itself (it never speaks again, so it would
        // be declared dead before a test could watch it sit idle).
        var job = (await _cluster.Client.SubmitAsync([Spec("echo done")]))[0];
        using var deaf = new DeafWorker(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers());
        var dispatch = deaf.ReceiveDispatch(TimeSpan.FromSeconds(10));
        Assert.Equal(1, dispatch.Attempt);

        _cluster.AddWorker(slots: 1);
        var done = await _cluster.WaitForAsync(job.Id);
        Assert.True(JobState.Completed == done.State, string.Join("\n", _cluster.LogLines.ToArray()));
        Assert.Equal(2, done.Attempts);
        Assert.NotEqual("deaf", done.WorkerId);
        Assert.True((await _cluster.Client.GetStatusAsync()).DeadWorkerResubmits >= 1);

        // The presumed-dead worker wakes up and reports attempt 1: fencing ignores it.
        deaf.Send(new JobFinished("deaf", job.Id, 1, JobState.Failed, 9, "late", null, DateTimeOffset.UtcNow));
        deaf.Send(new JobOutput("deaf", job.Id, 1, [new OutputLine(OutputStream.Stdout, "late line")]));
        await Wait.UntilAsync(() => _cluster.LogLines.ToArray().Any(l => l.Contains("stale report", StringComparison.Ordinal)), what: "the stale report to be logged");
        var after = (await _cluster.Client.GetJobsAsync([job.Id], null)).Jobs[0];
        Assert.Equal(JobState.Completed, after.State);
        Assert.Equal(0, after.ExitCode);
        Assert.Equal(["done"], File.ReadAllLines(after.OutputPath!));
        var status = await _cluster.Client.GetStatusAsync();
        Assert.Equal(1, status.FinishedJobs);
        Assert.True(status.StaleReports >= 1);
    }

    [Fact]
    public async Task AJobsEndIsAcknowledged_OnTheDispatchThatRefillsItsSlot_OrOnItsOwn()
    {
        var jobs = await _cluster.Client.SubmitAsync([Spec("true"), Spec("true")]);
        using var worker = new DeafWorker(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers());
        var first = worker.ReceiveDispatch(TimeSpan.FromSeconds(10));
        Assert.Equal(jobs[0].Id, first.JobId);
        Assert.Null(first.Acks);

        var now = DateTimeOffset.UtcNow;
        worker.Send(new JobFinished("deaf", first.JobId, first.Attempt, JobState.Completed, 0, null, now, now));
        var second = worker.ReceiveDispatch(TimeSpan.FromSeconds(10));
        Assert.Equal(jobs[1].Id, second.JobId);
        Assert.Equal([new RunningJobRef(first.JobId, first.Attempt)], second.Acks);

        // Nothing left to dispatch: the ack of the last end travels alone.
        worker.Send(new JobFinished("deaf", second.JobId, second.Attempt, JobState.Completed, 0, null, now, now));
        var ack = worker.Receive<JobFinishedAck>(TimeSpan.FromSeconds(10));
        Assert.Equal((second.JobId, second.Attempt), (ack.JobId, ack.Attempt));
        Assert.Equal(2, (await _cluster.Client.GetStatusAsync()).FinishedJobs);
    }

    [Fact]
    public async Task AnEndThatCarriesTheLastLines_IsTakenWithThem_AndOneAfterAGap_WaitsForTheMissingLines()
    {
        var jobs = await _cluster.Client.SubmitAsync([Spec("true"), Spec("true")]);
        using var worker = new DeafWorker(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers());
        var first = worker.ReceiveDispatch(TimeSpan.FromSeconds(10));
        var now = DateTimeOffset.UtcNow;
        OutputLine Out(string text) => new(OutputStream.Stdout, text);

        // Two lines sent on their own, the last two with the end: one ack, and all four lines in order.
        worker.Send(new JobOutput("deaf", first.JobId, first.Attempt, [Out("one"), Out("two")], 0));
        worker.Send(new JobFinished("deaf", first.JobId, first.Attempt, JobState.Completed, 0, null, now, now, 42, 4,
            [Out("three"), new OutputLine(OutputStream.Stderr, "four")], 2));
        var second = worker.ReceiveDispatch(TimeSpan.FromSeconds(10));
        Assert.Equal([new RunningJobRef(first.JobId, first.Attempt)], second.Acks);
        var done = await _cluster.WaitForAsync(first.JobId);
        Assert.Equal(["one", "two", "three", "four"], File.ReadAllLines(done.OutputPath!));
        Assert.Equal([OutputStream.Stdout, OutputStream.Stdout, OutputStream.Stdout, OutputStream.Stderr], (await _cluster.OutputAsync(first.JobId)).Select(l => l.Stream));

        // Lines 0-1 were lost on the way: the end with lines 2-3 is not taken (no ack) until they come. (The heartbeats
        // keep this worker alive meanwhile: it is slower than the dead-worker time here.)
        void Alive() => worker.Send(new WorkerHello("deaf", "deafhost", 1, 1, [new RunningJobRef(second.JobId, second.Attempt)], "test", false));
        Alive();
        worker.Send(new JobFinished("deaf", second.JobId, second.Attempt, JobState.Completed, 0, null, now, now, 43, 4, [Out("c"), Out("d")], 2));
        await Wait.UntilAsync(() => _cluster.LogLines.ToArray().Any(l => l.Contains($"job {second.JobId}: waiting for the rest", StringComparison.Ordinal)),
            what: "the end to be held back");
        Alive();
        Assert.Equal(JobState.Running, (await _cluster.Client.GetJobsAsync([second.JobId], null)).Jobs[0].State);
        worker.Send(new JobOutput("deaf", second.JobId, second.Attempt, [Out("a"), Out("b")], 0));
        Assert.Equal(2, worker.Receive<OutputAck>(TimeSpan.FromSeconds(10)).Lines);
        worker.Send(new JobFinished("deaf", second.JobId, second.Attempt, JobState.Completed, 0, null, now, now, 43, 4, [Out("c"), Out("d")], 2));
        var ack = worker.Receive<JobFinishedAck>(TimeSpan.FromSeconds(10));
        Assert.Equal((second.JobId, second.Attempt), (ack.JobId, ack.Attempt));
        Assert.Equal(["a", "b", "c", "d"], File.ReadAllLines((await _cluster.WaitForAsync(second.JobId)).OutputPath!));
    }

    [Fact]
    public async Task JobThatKeepsLosingItsWorker_FailsAfterMaxAttempts()
    {
        using var deaf = new DeafWorker(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers());
        var job = (await _cluster.Client.SubmitAsync([Spec("true", maxAttempts: 1)]))[0];
        deaf.ReceiveDispatch(TimeSpan.FromSeconds(10));
        var done = await _cluster.WaitForAsync(job.Id);
        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("MaxAttempts 1", done.Reason);
    }

    [Fact]
    public async Task CancellingARunningJob_KillsItsTree_KeepsItsOutput_AndTheWorkerCarriesOn()
    {
        _cluster.AddWorker(slots: 1);
        var job = (await _cluster.Client.SubmitAsync([Spec("echo before; sleep 303 & sleep 304; echo never")]))[0];
        var running = await Wait.UntilAsync(() => _cluster.Client.GetJobsAsync([job.Id], null), r => r.Jobs[0].Pid is not null && File.Exists(r.Jobs[0].OutputPath), what: "the job to start and write");
        var pid = running.Jobs[0].Pid!.Value;

        var watch = Stopwatch.StartNew();
        var reply = await _cluster.Client.CancelAsync([job.Id, 999]);
        Assert.Equal(job.Id, Assert.Single(reply.Cancelled).Id);
        Assert.Equal(999, Assert.Single(reply.Unknown));
        var done = await _cluster.WaitForAsync(job.Id);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal(JobState.Cancelled, done.State);

        await Wait.UntilAsync(() => !ProcessExists(pid), 5000, "the job's process to be gone");
        await Wait.UntilAsync(() => !File.ReadAllText("/proc/loadavg").Length.Equals(0) && NoSleepLeft(), 5000, "the job's children to be gone");
        Assert.Contains("before", File.ReadAllLines(done.OutputPath!));
        var status = await _cluster.Client.GetStatusAsync();
        Assert.Equal(1, status.CancelledJobs);

        var next = await _cluster.RunAsync(Spec("echo alive"));
        Assert.Equal(JobState.Completed, next.State);

        var again = await _cluster.Client.CancelAsync([job.Id]);
        Assert.Empty(again.Cancelled);
        Assert.Single(again.AlreadyEnded);
    }

    [Fact]
    public async Task CancellingAWaitingJob_EndsItAtOnce_AndTellsWaiters()
    {
        var job = (await _cluster.Client.SubmitAsync([Spec("true")]))[0];
        var waiter = _cluster.WaitForAsync(job.Id);
        await _cluster.Client.CancelAsync([job.Id]);
        var done = await waiter;
        Assert.Equal(JobState.Cancelled, done.State);
        Assert.Equal(1, (await _cluster.Client.GetStatusAsync()).CancelledJobs);
        _cluster.AddWorker(slots: 1);
        await _cluster.WaitForIdleSlotsAsync(1);
        Assert.Equal(JobState.Cancelled, (await _cluster.Client.GetJobsAsync([job.Id], null)).Jobs[0].State);
    }

    [Fact]
    public async Task Timeout_KillsTheJob_AndFailsItWithAReason()
    {
        _cluster.AddWorker(slots: 1);
        var watch = Stopwatch.StartNew();
        var done = await _cluster.RunAsync(Spec("sleep 1000", timeoutSec: 1));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("timed out after 1 s", done.Reason);
    }

    [Fact]
    public async Task Restart_KeepsWaitingJobsInOrder_AndNeverReusesIds()
    {
        var jobs = await _cluster.Client.SubmitAsync([Spec("echo a"), Spec("echo b"), Spec("echo c")]);
        _cluster.RestartServer();
        var status = await _cluster.Client.GetStatusAsync();
        Assert.Equal(4, status.NextJobId);
        Assert.Equal(3, status.WaitingJobs);
        var more = await _cluster.Client.SubmitAsync([Spec("echo d")]);
        Assert.Equal(4, more[0].Id);

        // No jobs taken ahead: on a loaded host one held past the prefetch hold goes back to the queue while a later one
        // stays ahead, and the order would then be the prefetch's, not the restart's (this test is about the restart).
        _cluster.AddWorker(slots: 1, prefetch: 0);
        var done = new List<long>();
        Assert.True(await _cluster.Client.WaitAsync([1, 2, 3, 4], false, TimeSpan.FromSeconds(30), e => done.Add(e.Id)));
        Assert.Equal([1L, 2L, 3L, 4L], done);
    }

    [Fact]
    public async Task RestartWhileAWorkerRunsAJob_TheJobIsNotRunAgain_AndItsResultIsTakenOnce()
    {
        _cluster.AddWorker(slots: 1);
        var marker = _cluster.Home.Combine("runs");
        var job = (await _cluster.Client.SubmitAsync([Spec($"echo run >> {marker}; sleep 2; echo finished")]))[0];
        await Wait.UntilAsync(() => File.Exists(marker), what: "the job to start");
        _cluster.RestartServer();

        var done = await _cluster.WaitForAsync(job.Id);
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(1, done.Attempts);
        Assert.Equal(["run"], File.ReadAllLines(marker));
        Assert.Equal(0, (await _cluster.Client.GetStatusAsync()).DeadWorkerResubmits);
    }

    [Fact]
    public async Task AReportSentWhileTheServerWasDown_ReachesItAfterItRestarts_AndTheJobIsNotRunAgain()
    {
        _cluster.AddWorker(slots: 1);
        var marker = _cluster.Home.Combine("runs");
        var job = (await _cluster.Client.SubmitAsync([Spec($"echo run >> {marker}")]))[0];
        var endpoint = _cluster.Server.Endpoint;
        await Wait.UntilAsync(() => File.Exists(marker), what: "the job to run");
        _cluster.Server.Dispose(); // the report is sent (or lost) while nobody listens
        await Wait.UntilAsync(() => _cluster.LogLines.ToArray().Any(l => l.Contains($"done with job {job.Id}", StringComparison.Ordinal)), what: "the worker to finish the job");
        _cluster.RestartServer();

        var done = await _cluster.WaitForAsync(job.Id);
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(1, done.Attempts);
        Assert.Equal(["run"], File.ReadAllLines(marker));
    }

    [Fact]
    public async Task OutputOfAJobRunningAcrossRestarts_HasEveryLineExactlyOnce()
    {
        _cluster.AddWorker(slots: 1);
        var job = (await _cluster.Client.SubmitAsync([Spec("for i in $(seq 1 300); do echo line $i; echo err $i >&2; sleep 0.005; done")]))[0];
        await Wait.UntilAsync(() => _cluster.Client.GetJobsAsync([job.Id], null), r => r.Jobs[0].OutputPath is { } p && File.Exists(p), what: "output to appear");
        _cluster.RestartServer();
        await Wait.UntilAsync(() => _cluster.Client.GetStatusAsync(), s => s.Workers == 1, what: "the worker to come back");
        _cluster.RestartServer();

        var done = await _cluster.WaitForAsync(job.Id);
        Assert.Equal(JobState.Completed, done.State);
        var expected = Enumerable.Range(1, 300).SelectMany(i => new[] { $"line {i}", $"err {i}" }).ToList();
        var file = File.ReadAllLines(done.OutputPath!);
        Assert.Equal(expected.Order(), file.Order());
        var received = await _cluster.OutputAsync(job.Id);
        Assert.Equal(600, received.Count);
        Assert.All(received, l => Assert.Equal(l.Text.StartsWith("err", StringComparison.Ordinal) ? OutputStream.Stderr : OutputStream.Stdout, l.Stream));
    }

    [Fact]
    public async Task ReceivedOutput_KeepsItsStreams_AfterARestart()
    {
        _cluster.AddWorker(slots: 1);
        var job = await _cluster.RunAsync(Spec("echo out; sleep 0.2; echo err >&2"));
        _cluster.RestartServer();
        var lines = await _cluster.OutputAsync(job.Id);
        Assert.Equal([new(OutputStream.Stdout, "out"), new(OutputStream.Stderr, "err")], lines);
    }

    [Fact]
    public async Task Remove_ForgetsEndedJobs_ButNotActiveOnes()
    {
        _cluster.AddWorker(slots: 1);
        var done = await _cluster.RunAsync(Spec("true"));
        var waiting = (await _cluster.Client.SubmitAsync([Spec("sleep 30")]))[0];
        var reply = await _cluster.Client.RemoveAsync([done.Id, waiting.Id, 999], null);
        Assert.Equal([done.Id], reply.Removed);
        Assert.Equal([waiting.Id], reply.StillActive);
        Assert.Equal([999L], reply.Unknown);
        Assert.Equal([waiting.Id], (await _cluster.Client.GetJobsAsync(null, null)).Jobs.Select(j => j.Id));
        await _cluster.Client.CancelAsync([waiting.Id]);
    }

    [Fact]
    public async Task RemoveForced_OfARunningJob_CancelsAndForgetsIt_AndItsSlotComesBack()
    {
        _cluster.AddWorker(slots: 1);
        var job = (await _cluster.Client.SubmitAsync([Spec("sleep 305")]))[0];
        await Wait.UntilAsync(() => _cluster.Client.GetJobsAsync([job.Id], null), r => r.Jobs[0].Pid is not null, what: "the job to start");

        var reply = await _cluster.Client.RemoveForcedAsync([job.Id]);
        Assert.Equal([job.Id], reply.Removed);
        Assert.Empty((await _cluster.Client.GetJobsAsync([job.Id], null)).Jobs);
        // The kill is confirmed after the job is gone: the slot still comes back, and the job stays removed.
        var next = await _cluster.RunAsync(Spec("echo next"));
        Assert.Equal(JobState.Completed, next.State);
        Assert.Empty((await _cluster.Client.GetJobsAsync([job.Id], null)).Jobs);
    }

    [Fact]
    public async Task AWaitCallbackThatThrows_EndsThatWait_NotTheClient()
    {
        _cluster.AddWorker(slots: 1);
        var job = await _cluster.RunAsync(Spec("true"));
        // As a caller whose wait was given up: its callback throws (BlockingCollection.Add after CompleteAdding, say).
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _cluster.Client.WaitAsync([job.Id], any: false, timeout: TimeSpan.FromSeconds(10), _ => throw new InvalidOperationException("gone")));
        Assert.Equal("gone", ex.Message);
        var next = await _cluster.RunAsync(Spec("echo still"));
        Assert.Equal(JobState.Completed, next.State); // the client's I/O thread carried on
    }

    private static bool ProcessExists(int pid) => Directory.Exists($"/proc/{pid}");

    private static bool NoSleepLeft() =>
        !Directory.EnumerateDirectories("/proc").Any(d =>
        {
            try
            {
                var cmd = File.ReadAllText(Path.Combine(d, "cmdline"));
                return cmd is "sleep\0303\0" or "sleep\0304\0";
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        });

    public void Dispose() => _cluster.Dispose();
}
