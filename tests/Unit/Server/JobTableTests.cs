using System.Text.RegularExpressions;
using Goq.Protocol;
using Goq.Server.Scheduling;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>The job table: the one place a job's state changes, checked against the legal changes, staged as copies.</summary>
public sealed class JobTableTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private static JobInfo Job(long id, JobState state) => new() { Id = id, State = state, Command = "true" };

    private static JobSpec Spec() => new() { Kind = JobKind.Shell, Command = "true" };

    [Theory]
    [InlineData(JobState.Waiting, JobState.Running)]
    [InlineData(JobState.Waiting, JobState.Held)]
    [InlineData(JobState.Held, JobState.Blocked)]
    [InlineData(JobState.Blocked, JobState.DependencyFailed)]
    [InlineData(JobState.Running, JobState.Completed)]
    [InlineData(JobState.Running, JobState.Waiting)]
    [InlineData(JobState.Failed, JobState.Waiting)]
    [InlineData(JobState.Completed, JobState.Waiting)]
    [InlineData(JobState.Failed, JobState.Failed)]
    public void LegalChanges_AreMade_AndRecorded(JobState from, JobState to)
    {
        var table = new JobTable();
        var job = Job(1, from);
        Assert.True(table.Transition(job, to, "why", Now));
        Assert.Equal((to, "why"), (job.State, job.Reason));
        Assert.Equal(new JobTransition(1, from, to, "why", Now), Assert.Single(table.TakeTransitions()));
    }

    [Theory]
    [InlineData(JobState.Held, JobState.Running)]
    [InlineData(JobState.Blocked, JobState.Running)]
    [InlineData(JobState.Running, JobState.Held)]
    [InlineData(JobState.Running, JobState.DependencyFailed)]
    [InlineData(JobState.Completed, JobState.Running)]
    [InlineData(JobState.Cancelled, JobState.Failed)]
    public void AnIllegalChange_Throws_InTheTests_AndIsRefusedAndReportedOtherwise_TheJobKeepingItsState(JobState from, JobState to)
    {
        var strict = new JobTable();
        Assert.True(strict.Strict); // the tests' switch (TestSetup)
        var job = Job(1, from);
        Assert.Throws<InvalidOperationException>(() => strict.Transition(job, to, null, Now));
        Assert.Equal(from, job.State);
        Assert.Empty(strict.TakeTransitions());

        var refused = new List<JobTransition>();
        var lenient = new JobTable { Strict = false, Refused = refused.Add };
        Assert.False(lenient.Transition(job, to, "why", Now));
        Assert.Equal(from, job.State);
        Assert.Equal(new JobTransition(1, from, to, "why", Now), Assert.Single(refused));
    }

    [Fact]
    public void HeldAndBlockedJobs_AreIndexedByTheirState_AsTheyChange_AndLeaveWithTheJob()
    {
        var table = new JobTable();
        var job = Job(1, JobState.Waiting);
        table.Add(job, Spec());
        table.Add(Job(2, JobState.Blocked), Spec());
        table.Transition(job, JobState.Held, null, Now);
        Assert.Equal([1L], table.Held);
        Assert.Equal([2L], table.Blocked);
        table.Transition(job, JobState.Blocked, null, Now);
        Assert.Empty(table.Held);
        Assert.Equal([1L, 2L], table.Blocked.Order());
        Assert.True(table.Remove(1, out _));
        Assert.Equal([2L], table.Blocked);
    }

    [Fact]
    public void ChangedRecords_AreStagedAsCopies_WithEveryChangeMadeInTheEvent()
    {
        var store = new InMemoryJobStore();
        var table = new JobTable();
        var job = Job(store.AllocateIds(1), JobState.Waiting);
        store.Insert(job.Clone(), Spec());
        table.Add(job, Spec());
        table.Transition(job, JobState.Running, null, Now);
        job.Attempts = 1; // after the transition, in the same event: staged too
        table.StageChanges(store);

        var stored = store.Get(job.Id)!;
        Assert.NotSame(job, stored);
        Assert.Equal((JobState.Running, 1), (stored.State, stored.Attempts));
        job.Pid = 42; // the live record changes; the staged one does not until the next event's staging
        Assert.Null(store.Get(job.Id)!.Pid);
    }

    [Fact]
    public void TheStoreAndThePort_NeverGetTheSchedulersLiveRecord_AndEveryChangeItMadeWasLegal()
    {
        var store = new InMemoryJobStore();
        var port = new SchedulerOutbox();
        var (started, ended) = (new List<JobInfo>(), new List<JobInfo>());
        (port.OnRunStarted, port.OnJobEnded) = (started.Add, ended.Add);
        var scheduler = new Scheduler(store, port, new Instant(Now, TimeSpan.Zero));
        var now = new Instant(Now, TimeSpan.FromSeconds(1));
        scheduler.Submit([Spec(), Spec() with { DependsOn = [1] }, Spec() with { Hold = true }], now);
        scheduler.WorkerHello(new PeerId("w1"), new WorkerHello("w1", "host", 1, 1, [], "v", false), now);
        var running = scheduler.GetJob(1)!;
        Assert.Equal(JobState.Running, running.State);
        Assert.NotSame(running, store.Get(1));
        Assert.Equal(JobState.Running, store.Get(1)!.State);

        scheduler.JobFinished(new JobFinished("w1", 1, 1, JobState.Completed, 0, null, Now, Now), now);
        scheduler.Cancel([3], now);
        Assert.Equal(JobState.Completed, store.Get(1)!.State);
        Assert.Equal(JobState.Running, store.Get(2)!.State);
        Assert.Equal(JobState.Cancelled, store.Get(3)!.State);

        // What the metrics observe leaves through the port too, as copies.
        Assert.Equal([1L], started.Select(j => j.Id));
        Assert.Equal([(1L, JobState.Completed), (3L, JobState.Cancelled)], ended.Select(j => (j.Id, j.State)));
        Assert.NotSame(store.Get(1), ended[0]);

        var changes = scheduler.TakeTransitions();
        Assert.All(changes, c => Assert.True(JobTable.IsLegal(c.From, c.To), $"{c.From} to {c.To}"));
        Assert.Equal([JobState.Waiting, JobState.Running, JobState.Completed], changes.Where(c => c.JobId == 1).Select(c => c.To));
        Assert.Equal([JobState.Blocked, JobState.Waiting, JobState.Running], changes.Where(c => c.JobId == 2).Select(c => c.To));
        Assert.Equal([JobState.Held, JobState.Cancelled], changes.Where(c => c.JobId == 3).Select(c => c.To));
    }

    [Fact]
    public void NoCodeButTheJobTable_AssignsAJobsState()
    {
        // The rule the table exists for: a new assignment elsewhere would bypass the legal changes and the record.
        var root = Path.Combine(RepositoryRoot(), "src", "Goq.Engine", "Server");
        var assignment = new Regex(@"\.State\s*(=|\?\?=)[^=>]", RegexOptions.Compiled);
        var offenders = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "JobTable.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(root, f), Line: i + 1, Text: line)))
            .Where(l => assignment.IsMatch(l.Text) && !l.Text.TrimStart().StartsWith("//", StringComparison.Ordinal))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();
        Assert.Empty(offenders);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Goq.PowerShell.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root was not found");
    }
}
