using Goq.Server;
using Goq.Storage;
using Goq.Tests.Support;
using Goq.Server.Scheduling;

namespace Goq.Tests.Storage;

/// <summary>
/// Stored data is a contract (pueue keeps old state files for the same reason): a store written by an earlier Goq is
/// opened with the current code and every job, array, dependency, attempt and setting in it is found as it was written.
/// The fixture was made by a real server (Fixtures/New-StoreFixture.ps1, which lists what it holds and by which ids).
/// A change to the stored format must keep these tests green, or migrate the file so that they are; a fixture is
/// never regenerated to make them pass. A new format gets a new fixture beside this one, and tests of its own.
/// </summary>
public sealed class StoredDataCompatibilityTests : IDisposable
{
    private const string Fixture = "goq-0.1.0.db";
    private const string WorkDir = "/tmp/goq-fixture-ddd58de0/work";

    private readonly TempDir _dir = new();

    /// <summary>A copy of the fixture: opening a store may write to it (pruning old batch ids), and the fixture must stay as made.</summary>
    private SqliteJobStore OpenCopy()
    {
        var path = _dir.Combine("goq.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", Fixture), path);
        return new SqliteJobStore(path);
    }

    [Fact]
    public void EveryJob_IsFound_InTheStateItWasStoredIn()
    {
        using var store = OpenCopy();
        var jobs = store.Query(null, null).ToDictionary(j => j.Id);
        // The array jobs' own records (6 and 16) live apart from the jobs; tasks 18 and 19 of array 16 were never made.
        Assert.Equal([1L, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17], jobs.Keys.Order());
        var expected = new Dictionary<long, (string Name, JobState State)>
        {
            [1] = ("completed", JobState.Completed),
            [2] = ("failed", JobState.Failed),
            [3] = ("retried", JobState.Completed),
            [4] = ("cancelled", JobState.Cancelled),
            [5] = ("dependency-failed", JobState.DependencyFailed),
            [7] = ("array", JobState.Completed),
            [8] = ("array", JobState.Completed),
            [9] = ("array", JobState.Completed),
            [10] = ("scriptblock", JobState.Completed),
            [11] = ("held", JobState.Held),
            [12] = ("blocked", JobState.Blocked),
            [13] = ("ready", JobState.Waiting),
            [14] = ("priority", JobState.Waiting),
            [15] = ("not-before", JobState.Waiting),
            [17] = ("pending-array", JobState.Waiting),
        };
        foreach (var (id, (name, state)) in expected)
        {
            Assert.Equal((id, name, state), (jobs[id].Id, jobs[id].Name, jobs[id].State));
            Assert.Equal(WorkDir, jobs[id].WorkingDirectory);
            Assert.Equal("root@vm", jobs[id].SubmittedBy);
        }

        Assert.Equal(DateTimeOffset.Parse("2026-12-07T17:14:00.9217132+00:00", System.Globalization.CultureInfo.InvariantCulture), jobs[1].SubmittedAt);
        Assert.Equal(((int?)0, "echo fixture", 1, "vm", (int?)13338), (jobs[1].ExitCode, jobs[1].Command, jobs[1].Attempts, jobs[1].WorkerHost, jobs[1].Pid));
        Assert.Equal(WorkDir + "/o/out.00001", jobs[1].OutputPath);
        Assert.Equal(3_371_008L, jobs[1].MaxMemoryBytes);
        Assert.Equal(TimeSpan.FromTicks(112_380), jobs[1].SystemCpuTime);
        Assert.Equal(((int?)3, "exit code 3"), (jobs[2].ExitCode, jobs[2].Reason));
        Assert.Equal(((int?)137, "cancelled"), (jobs[4].ExitCode, jobs[4].Reason));
        Assert.Equal((JobKind.ScriptBlock, " param($x) $x * 2 "), (jobs[10].Kind, jobs[10].Command));
        Assert.Equal(JobKind.Shell, jobs[1].Kind);

        Assert.Equal(8, store.Counters.FinishedJobs);
        Assert.Equal(1, store.Counters.CancelledJobs);
        Assert.Equal(0, store.Counters.DeadWorkerResubmits);
        Assert.Equal(20, store.NextJobId); // past the last task of array 16, made or not
    }

    [Fact]
    public void ARetriedJob_KeepsBothAttempts()
    {
        using var store = OpenCopy();
        var job = store.Get(3)!;
        Assert.Equal((JobState.Completed, (int?)0, 2, 1, 1), (job.State, job.ExitCode, job.Attempts, job.Retries, job.AttemptsBeforeRun));
        var earlier = Assert.Single(job.History);
        Assert.Equal((3L, 1, JobState.Failed, (int?)1, "exit code 1", (int?)13344), (earlier.JobId, earlier.Attempt, earlier.State, earlier.ExitCode, earlier.Reason, earlier.Pid));
        Assert.NotNull(earlier.StartedAt);
        Assert.NotNull(earlier.FinishedAt);
        Assert.Equal(1, store.GetSpec(3)!.RetryCount);
        var output = store.GetOutputIndex(3)!;
        Assert.Equal((0L, 2L, 13L, 2, 1L, 2), (output.StartOffset, output.Lines, output.Bytes, output.Attempt, output.AttemptLines, output.WorkerWrites));
        Assert.Equal([2L], output.StderrRuns);
        Assert.Equal(WorkDir + "/o/out.00003", output.Path);
        Assert.Equal([0L, 1L], store.GetOutputIndex(2)!.StderrRuns); // job 2's one line went to stderr
    }

    [Fact]
    public void Dependencies_KeepTheirJobsAndMode()
    {
        using var store = OpenCopy();
        Assert.Equal([2L], store.Get(5)!.DependsOn);
        Assert.Equal(DependencyMode.AfterOk, store.Get(5)!.DependencyMode);
        Assert.Equal([11L], store.Get(12)!.DependsOn);
        Assert.Equal(DependencyMode.AfterAny, store.Get(12)!.DependencyMode);
        Assert.Equal("waiting for job 11 to end", store.Get(12)!.Reason);
        Assert.Equal([1L], store.Get(13)!.DependsOn);
        Assert.Equal([11L], store.GetSpec(12)!.DependsOn);
        Assert.Equal(DependencyMode.AfterAny, store.GetSpec(12)!.DependencyMode);
    }

    [Fact]
    public void Arrays_KeepTheirRecords_TheirTasks_AndTheTasksMadeSoFar()
    {
        using var store = OpenCopy();
        var (ended, endedSpec) = store.GetArray(6)!.Value;
        Assert.Equal(("array", JobState.Completed, (int?)3), (ended.Name, ended.State, ended.TaskCount));
        Assert.Equal("3 completed, 0 failed, 0 cancelled, 0 not run (DependencyFailed)", ended.Reason);
        Assert.Equal([1, 2, 3], endedSpec.ArrayIndex!);
        foreach (var (task, index) in new[] { (7L, 1), (8L, 2), (9L, 3) })
        {
            Assert.Equal(((long?)6, (int?)index), (store.Get(task)!.ArrayJobId, store.Get(task)!.ArrayIndex));
            Assert.Equal(new ArrayTask(6, index, 3), store.GetSpec(task)!.ArrayTask);
        }

        var (pending, pendingSpec, tasks) = Assert.Single(store.LoadActiveArrays());
        Assert.Equal((16L, "pending-array", JobState.Waiting, (int?)3, "later"), (pending.Id, pending.Name, pending.State, pending.TaskCount, pending.Queue));
        Assert.Equal([0, 5, 10], pendingSpec.ArrayIndex!);
        Assert.Equal(1, pendingSpec.ThrottleLimit);
        Assert.Equal([(17L, JobState.Waiting)], tasks);
        Assert.Equal(new ArrayTask(16, 0, 3), store.GetSpec(17)!.ArrayTask);
        Assert.Null(store.GetArray(1)); // a plain job is no array
    }

    [Fact]
    public void Specs_KeepWhatWasAskedFor()
    {
        using var store = OpenCopy();
        var priority = store.GetSpec(14)!;
        Assert.Equal((10, "later", 2, (int?)60, 5), (priority.Priority, priority.Queue, priority.SlotCount, priority.TimeoutSec, priority.MaxAttempts));
        Assert.Equal(["gpu"], priority.Require);
        Assert.Equal(new Dictionary<string, string> { ["FIXTURE"] = "yes" }, priority.Environment!.ToDictionary());
        Assert.Equal((10, "later", 2), (store.Get(14)!.Priority, store.Get(14)!.Queue, store.Get(14)!.SlotCount));
        Assert.Equal(["gpu"], store.Get(14)!.Require);

        var notBefore = new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(notBefore, store.GetSpec(15)!.NotBefore);
        Assert.Equal(notBefore, store.Get(15)!.NotBefore);
        Assert.True(store.GetSpec(11)!.Hold);
        Assert.True(store.Get(11)!.Hold);

        // The submitter's environment is stored once and shared by every job of the home; the script made it small.
        var captured = store.GetSpec(1)!.CapturedEnvironment!;
        Assert.Equal("C.UTF-8", captured["LANG"]);
        Assert.Same(captured, store.GetSpec(14)!.CapturedEnvironment);

        var script = store.GetSpec(10)!;
        Assert.Equal(JobKind.ScriptBlock, script.Kind);
        Assert.Contains("<I32>21</I32>", script.ScriptData);
        var records = store.GetOutputIndex(10)!.Records!;
        Assert.Equal((1L, 109L, WorkDir + "/o/out.00010.records"), (records.Lines, records.Bytes, records.Path));
    }

    [Fact]
    public void QueueLimits_AreKept()
    {
        using var store = OpenCopy();
        Assert.Equal(new Dictionary<string, int> { ["later"] = 2, ["nightly"] = 1 }, store.Counters.QueueLimits);
    }

    [Fact]
    public void AReaderBesideTheStore_ReadsTheSamePages_AndCounts()
    {
        using var store = OpenCopy();
        using var reader = store.OpenReader()!;
        var page = reader.Query(null, [JobState.Waiting, JobState.Held, JobState.Blocked], afterId: 0, limit: 100, filter: null);
        Assert.Equal([11L, 12, 13, 14, 15, 17], page.Select(j => j.Id));
        Assert.Equal(
            [("default", JobState.Completed, 6L), ("default", JobState.Failed, 1L), ("default", JobState.Cancelled, 1L), ("default", JobState.DependencyFailed, 1L)],
            reader.CountEnded().Order());
        var counts = store.CountStates([JobState.Waiting, JobState.Held, JobState.Blocked, JobState.Completed]);
        Assert.Equal((4L, 1L, 1L, 6L), (counts[JobState.Waiting], counts[JobState.Held], counts[JobState.Blocked], counts[JobState.Completed]));
    }

    [Fact]
    public void ASchedulerStartedOnTheStore_RebuildsTheQueue()
    {
        using var store = OpenCopy();
        var scheduler = new Scheduler(store, new SchedulerOutbox(), new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), new SchedulerOptions());

        Assert.Equal(JobState.Held, scheduler.GetJob(11)!.State);
        Assert.Equal(JobState.Blocked, scheduler.GetJob(12)!.State); // job 11 has not ended
        Assert.Equal(1, scheduler.BlockedJobs);
        // 13 and 14 in their queue, 15 until 2099, and array 16's three tasks (17 made; 18 and 19 to come).
        Assert.Equal(6, scheduler.WaitingJobs);
        Assert.Equal(JobState.Waiting, scheduler.GetArray(16)!.State);
        var later = scheduler.GetQueues().Single(q => q.Name == "later");
        Assert.Equal((2, 5), (later.ThrottleLimit, later.WaitingJobs));
    }

    public void Dispose() => _dir.Dispose();
}
