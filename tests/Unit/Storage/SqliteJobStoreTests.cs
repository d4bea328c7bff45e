using System.Text.Json;
using Goq.Errors;
using Goq.Storage;
using Goq.Tests.Support;
using Microsoft.Data.Sqlite;
using Goq.Server.Scheduling;

namespace Goq.Tests.Storage;

public sealed class SqliteJobStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string DbPath => _dir.Combine("goq.db");

    private static readonly Dictionary<string, string> SharedEnvironment = new() { ["A"] = "1", ["B"] = "2" };

    private static (JobInfo, JobSpec) NewJob(long id, string command = "true") =>
        (new JobInfo { Id = id, State = JobState.Waiting, Command = command, SubmittedAt = DateTimeOffset.UnixEpoch },
         new JobSpec { Kind = JobKind.Shell, Command = command, CapturedEnvironment = SharedEnvironment });

    private static void Add(SqliteJobStore store, int count)
    {
        var first = store.AllocateIds(count);
        for (var i = 0; i < count; i++)
        {
            var (job, spec) = NewJob(first + i);
            store.Insert(job, spec);
        }
    }

    [Fact]
    public void EndedJobs_AreCountedByQueue_OverTheSnapshotAReaderPinned()
    {
        using var store = new SqliteJobStore(DbPath);
        var first = store.AllocateIds(3);
        foreach (var (id, queue, state) in new[] { (first, "default", JobState.Completed), (first + 1, "gpu", JobState.Failed), (first + 2, "gpu", JobState.Waiting) })
        {
            var (job, spec) = NewJob(id);
            job.Queue = queue;
            job.State = state;
            store.Insert(job, spec with { Queue = queue });
        }

        store.Commit();
        Assert.Equal([("default", JobState.Completed, 1L), ("gpu", JobState.Failed, 1L)], store.CountEnded().Order());

        using var reader = store.OpenReader()!;
        reader.PinSnapshot();
        var late = store.Get(first + 2)!;
        late.State = JobState.Completed; // ends after the pin: the tally counts it, the pinned count must not
        store.Update(late);
        store.Commit();
        Assert.Equal([("default", JobState.Completed, 1L), ("gpu", JobState.Failed, 1L)], reader.CountEnded().Order());
        Assert.Contains(("gpu", JobState.Completed, 1L), reader.CountEnded()); // unpinned: the last commit
    }

    [Fact]
    public void CommittedJobs_IdsAndCounters_SurviveAReopen()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            Add(store, 3);
            store.Counters.FinishedJobs = 7;
            store.Counters.DeadWorkerResubmits = 2;
            store.Commit();
        }

        using var reopened = new SqliteJobStore(DbPath);
        Assert.Equal(4, reopened.NextJobId);
        Assert.Equal(7, reopened.Counters.FinishedJobs);
        Assert.Equal(2, reopened.Counters.DeadWorkerResubmits);
        Assert.Equal([1L, 2L, 3L], reopened.LoadActive().Select(j => j.Job.Id));
        Assert.Equal(SharedEnvironment, reopened.LoadActive()[1].Spec.CapturedEnvironment!.ToDictionary()); // specs come with them
        var spec = reopened.GetSpec(2)!;
        Assert.Equal("true", spec.Command);
        Assert.Equal(SharedEnvironment, spec.CapturedEnvironment!.ToDictionary());
    }

    [Fact]
    public void QueueLimits_AndAJobsQueueSlotsAndLabels_SurviveAReopen()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            var id = store.AllocateIds(1);
            store.Insert(new JobInfo { Id = id, State = JobState.Waiting, Command = "true", Queue = "gpu", SlotCount = 4, Require = ["gpu", "bigmem"] },
                new JobSpec { Kind = JobKind.Shell, Command = "true", Queue = "gpu", SlotCount = 4, Require = ["gpu", "bigmem"] });
            store.Counters.QueueLimits["gpu"] = 3;
            store.Counters.QueueLimits["old"] = 0; // a cap taken off is written as none, not forgotten on disk
            store.Commit();
            store.Counters.QueueLimits["cpu"] = 9;
            store.Counters.SettingsVersion++;
            store.Commit(); // nothing else changed: the setting alone is written
        }

        using var reopened = new SqliteJobStore(DbPath);
        Assert.Equal(new Dictionary<string, int> { ["gpu"] = 3, ["old"] = 0, ["cpu"] = 9 }, reopened.Counters.QueueLimits);
        var (job, spec) = reopened.LoadActive().Single();
        Assert.Equal(("gpu", 4, "gpu,bigmem"), (job.Queue, job.SlotCount, string.Join(',', job.Require)));
        Assert.Equal(("gpu", 4, "gpu,bigmem"), (spec.Queue, spec.SlotCount, string.Join(',', spec.Require)));
    }

    [Fact]
    public void AFilter_SelectsByTimeWindowSubmitterAndQueue_InTheStore_AndInWhatIsStaged()
    {
        var t0 = DateTimeOffset.UnixEpoch.AddDays(1);
        JobInfo Job(long id, int submittedMin, int? finishedMin, string by, string queue) => new()
        {
            Id = id, Command = "true", SubmittedBy = by, Queue = queue, SubmittedAt = t0.AddMinutes(submittedMin),
            FinishedAt = finishedMin is { } f ? t0.AddMinutes(f) : null, State = finishedMin is null ? JobState.Waiting : JobState.Completed,
        };

        using var store = new SqliteJobStore(DbPath);
        store.AllocateIds(5);
        store.Insert(Job(1, 0, 10, "ann@a", "default"), new JobSpec { Command = "true" });
        store.Insert(Job(2, 20, 30, "bob@b", "gpu"), new JobSpec { Command = "true" });
        store.Insert(Job(3, 40, null, "ANN@c", "gpu"), new JobSpec { Command = "true" });
        store.Insert(Job(4, 50, null, "annie@a", "default"), new JobSpec { Command = "true" });
        store.Commit();
        store.Update(Job(5, 60, 61, "ann_x@a", "default")); // staged only

        List<long> Ids(JobFilter filter) => store.Query(null, null, filter: filter).Select(j => j.Id).ToList();
        Assert.Equal([2L, 3L, 4L, 5L], Ids(new JobFilter { Since = t0.AddMinutes(15) })); // 1 ended before
        Assert.Equal([1L, 2L], Ids(new JobFilter { Until = t0.AddMinutes(20) }));
        Assert.Equal([2L], Ids(new JobFilter { Since = t0.AddMinutes(15), Until = t0.AddMinutes(35) }));
        Assert.Equal([1L, 3L], Ids(new JobFilter { SubmittedBy = "ann" })); // any host, any case; not annie, not ann_x
        Assert.Equal([1L], Ids(new JobFilter { SubmittedBy = "ann@a" }));
        Assert.Equal([2L, 3L], Ids(new JobFilter { Queues = ["gpu"] }));
        Assert.Equal([1L, 4L, 5L], Ids(new JobFilter { Queues = ["default", "none"] }));
    }

    [Fact]
    public void ADismissedFilter_SelectsInTheStore_AndInWhatIsStaged_WithRowsWithoutTheMarkNotDismissed()
    {
        using var store = new SqliteJobStore(DbPath);
        Add(store, 4);
        store.Commit();
        var dismissed = store.Get(2)!;
        dismissed.Dismissed = true;
        store.Update(dismissed);
        store.Commit();
        var staged = store.Get(3)!;
        staged.Dismissed = true;
        store.Update(staged); // staged only

        List<long> Ids(bool mark) => store.Query(null, null, filter: new JobFilter { Dismissed = mark }).Select(j => j.Id).ToList();
        Assert.Equal([1L, 4L], Ids(false));
        Assert.Equal([2L, 3L], Ids(true));
        // Written only when set: rows stored before it existed, and every other row, read as not dismissed.
        Assert.DoesNotContain("Dismissed", JsonSerializer.Serialize(store.Get(4)!, Goq.Protocol.GoqJson.JobInfo));
    }

    [Fact]
    public void CountStates_CountsEachStateOnDisk_WithStagedChangesInTheirNewState()
    {
        using var store = new SqliteJobStore(DbPath);
        Add(store, 4);
        store.Commit();
        var done = store.Get(1)!;
        done.State = JobState.Completed;
        store.Update(done);
        store.Commit();
        var failed = store.Get(2)!;
        failed.State = JobState.DependencyFailed;
        store.Update(failed); // staged only
        var (fresh, spec) = NewJob(store.AllocateIds(1));
        fresh.State = JobState.Failed;
        store.Insert(fresh, spec); // staged only

        var counts = store.CountStates([.. JobStateExtensions.Terminal, JobState.Waiting]);
        Assert.Equal((1L, 1L, 1L, 0L, 2L), (counts[JobState.Completed], counts[JobState.DependencyFailed], counts[JobState.Failed], counts[JobState.Cancelled], counts[JobState.Waiting]));
    }

    [Fact]
    public void AnArray_IsStoredOnce_ComesBackWithItsMadeTasks_AndItsTaskIdsAreNeverHandedOutAgain()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            var id = store.AllocateIds(1 + 100_000);
            var spec = new JobSpec { Kind = JobKind.Shell, Command = "true", ArrayIndex = [.. Enumerable.Range(0, 100_000)], ThrottleLimit = 5, CapturedEnvironment = SharedEnvironment };
            store.InsertArray(new JobInfo { Id = id, Command = "true", State = JobState.Running, TaskCount = 100_000 }, spec);
            var (task, _) = NewJob(id + 1);
            task.ArrayJobId = id;
            task.ArrayIndex = 0;
            task.State = JobState.Completed;
            store.Insert(task, spec with { ArrayIndex = null, ArrayTask = new ArrayTask(id, 0, 100_000) });
            store.Commit();
        }

        using var reopened = new SqliteJobStore(DbPath);
        Assert.Equal(100_002, reopened.NextJobId); // past every task, made or not
        var (array, arraySpec, tasks) = Assert.Single(reopened.LoadActiveArrays());
        Assert.Equal((1L, 100_000, 5), (array.Id, arraySpec.ArrayIndex!.Count, arraySpec.ThrottleLimit));
        Assert.Equal(SharedEnvironment, arraySpec.CapturedEnvironment!.ToDictionary());
        Assert.Equal([(2L, JobState.Completed)], tasks);
        Assert.Equal(new ArrayTask(1, 0, 100_000), reopened.GetSpec(2)!.ArrayTask);
        array.State = JobState.Completed;
        reopened.UpdateArray(array);
        reopened.Commit();
        Assert.Empty(reopened.LoadActiveArrays());
        Assert.Equal(JobState.Completed, reopened.GetArray(1)!.Value.Array.State);
        reopened.RemoveArray(1);
        Assert.Null(reopened.GetArray(1));
    }

    [Fact]
    public void ARetriedJobsHistory_RetriesAndAccounting_SurviveAReopen()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            var (job, spec) = NewJob(store.AllocateIds(1));
            job.State = JobState.Waiting;
            job.Retries = 1;
            job.Attempts = 1;
            job.AttemptsBeforeRun = 1;
            job.History = [new JobAttempt { JobId = 1, Attempt = 1, State = JobState.Failed, ExitCode = 3, UserCpuTime = TimeSpan.FromSeconds(2), MaxMemoryBytes = 4096 }];
            store.Insert(job, spec with { RetryCount = 2, RetryDelaySec = 30 });
            store.Commit();
        }

        using var reopened = new SqliteJobStore(DbPath);
        var (loaded, loadedSpec) = reopened.LoadActive().Single();
        Assert.Equal((1, 1, 1), (loaded.Retries, loaded.Attempts, loaded.AttemptsBeforeRun));
        var attempt = Assert.Single(loaded.History);
        Assert.Equal((JobState.Failed, 3, TimeSpan.FromSeconds(2), 4096L), (attempt.State, attempt.ExitCode!.Value, attempt.CpuTime!.Value, attempt.MaxMemoryBytes!.Value));
        Assert.Equal((2, 30), (loadedSpec.RetryCount, loadedSpec.RetryDelaySec));
    }

    [Fact]
    public void AScriptBlockJobsCliXml_IsKeptByteForByte_WithoutBeingRead()
    {
        // Not even well-formed XML: the engine carries the submitter's blob to the runner as it is.
        const string blob = "<Objs Version=\"1.1.0.1\">\n  <S>a_x000A_b &amp; \u00fc</S>\r\n<unclosed";
        using (var store = new SqliteJobStore(DbPath))
        {
            var id = store.AllocateIds(1);
            store.Insert(new JobInfo { Id = id, State = JobState.Waiting, Kind = JobKind.ScriptBlock, Command = "$_", SubmittedAt = DateTimeOffset.UnixEpoch },
                new JobSpec { Kind = JobKind.ScriptBlock, Command = "$_", ScriptData = blob, SerializationDepth = 4 });
            store.Commit();
        }

        using var reopened = new SqliteJobStore(DbPath);
        var spec = reopened.GetSpec(1)!;
        Assert.Equal(blob, spec.ScriptData);
        Assert.Equal(4, spec.SerializationDepth);
        Assert.Equal(JobKind.ScriptBlock, reopened.LoadActive().Single().Job.Kind);
        Assert.Equal(blob, reopened.LoadActive().Single().Spec.ScriptData);
    }

    [Fact]
    public void ABlockedJob_AndWhatItDependsOn_SurviveAReopen()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            var scheduler = new Goq.Server.Scheduling.Scheduler(store, new Goq.Server.Scheduling.SchedulerOutbox(), Goq.Timing.Instant.Now);
            var first = scheduler.Submit([new JobSpec { Kind = JobKind.Shell, Command = "true" }], DateTimeOffset.UnixEpoch)[0];
            scheduler.Submit([new JobSpec { Kind = JobKind.Shell, Command = "next", DependsOn = [first.Id], DependencyMode = DependencyMode.AfterAny }], DateTimeOffset.UnixEpoch);
            store.Commit();
        }

        using var reopened = new SqliteJobStore(DbPath);
        var (job, spec) = reopened.LoadActive().Single(j => j.Job.Command == "next");
        Assert.Equal((JobState.Blocked, DependencyMode.AfterAny), (job.State, job.DependencyMode));
        Assert.Equal([1L], job.DependsOn);
        Assert.Equal([1L], spec.DependsOn);
        Assert.Equal(1, new Goq.Server.Scheduling.Scheduler(reopened, new Goq.Server.Scheduling.SchedulerOutbox(), Goq.Timing.Instant.Now).BlockedJobs);
    }

    [Fact]
    public void StagedChanges_AreNotOnDisk_UntilCommit()
    {
        using var store = new SqliteJobStore(DbPath);
        Add(store, 2);
        Assert.Equal(2, store.Query(null, null).Count); // visible to the server at once...
        using (var other = new SqliteConnection($"Data Source={DbPath}"))
        {
            other.Open();
            using var count = other.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM jobs";
            Assert.Equal(0L, count.ExecuteScalar()); // ...but not durable yet
            store.Commit();
            Assert.Equal(2L, count.ExecuteScalar());
        }
    }

    [Fact]
    public void Updates_ReplaceState_AndQueriesFilterByStateAndId()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            Add(store, 3);
            store.Commit();
            var job = store.Get(2)!;
            job.State = JobState.Completed;
            job.ExitCode = 0;
            store.Update(job);
            Assert.Equal([2L], store.Query(null, [JobState.Completed]).Select(j => j.Id)); // staged overlay
            store.Commit();
        }

        using var reopened = new SqliteJobStore(DbPath);
        Assert.Equal([2L], reopened.Query(null, [JobState.Completed]).Select(j => j.Id));
        Assert.Equal([1L, 3L], reopened.Query([3, 1, 99], null).Select(j => j.Id));
        Assert.Equal(0, reopened.Get(2)!.ExitCode);
        Assert.Null(reopened.Get(99));
    }

    [Fact]
    public void Environments_AreStoredOncePerDistinctContent()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            Add(store, 100);
            store.Commit();
        }

        using var db = new SqliteConnection($"Data Source={DbPath}");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM environments";
        Assert.Equal(1L, cmd.ExecuteScalar());
    }

    [Fact]
    public void Remove_ForgetsOnlyFinishedJobs_AndIdsAreNeverReused()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            Add(store, 2);
            var done = store.Get(1)!;
            done.State = JobState.Failed;
            store.Update(done);
            Assert.Equal([1L], store.Remove([1, 2]));
            Assert.Null(store.Get(1));
            Assert.NotNull(store.Get(2));
        }

        using var reopened = new SqliteJobStore(DbPath);
        Assert.Equal(3, reopened.NextJobId);
    }

    [Fact]
    public void OutputIndex_RoundTrips()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
            Add(store, 1);
            store.SaveOutputIndex(1, new OutputIndex(10, 5, [2, 1, 2]));
            store.Commit();
        }

        using var reopened = new SqliteJobStore(DbPath);
        var index = reopened.GetOutputIndex(1)!;
        Assert.Equal(10, index.StartOffset);
        Assert.Equal([2L, 1L, 2L], index.StderrRuns);
    }

    [Fact]
    public void APageOfJobsInAState_IsReadThroughTheStateIndex_NotByScanningTheHistory()
    {
        using (new SqliteJobStore(DbPath))
        {
        }

        // The query Get-GoqJob -State Running makes: with a million ended jobs a scan in id order would read them all.
        using var db = new SqliteConnection($"Data Source={DbPath}");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "EXPLAIN QUERY PLAN SELECT info FROM jobs WHERE id > 0 AND state IN ('Running') ORDER BY id LIMIT 1001";
        using var reader = cmd.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        Assert.Contains(plan, step => step.Contains("USING INDEX jobs_state (state=? AND rowid>?)", StringComparison.Ordinal)); // the index holds the id (rowid) too
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN jobs", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    public void APageToSend_CarriesEndedJobsAsStored_AndTheClientReadsThemWhole()
    {
        using var store = new SqliteJobStore(DbPath);
        var first = store.AllocateIds(2);
        var (done, spec) = NewJob(first, "echo done");
        (done.State, done.ExitCode, done.Reason, done.Queue, done.UserCpuTime) = (JobState.Failed, 3, "exit code 3", "gpu", TimeSpan.FromSeconds(1.5));
        store.Insert(done, spec);
        var (waiting, spec2) = NewJob(first + 1);
        store.Insert(waiting, spec2);
        store.Commit();

        var page = store.Query(null, null, toSend: true);
        Assert.Equal(("", null), (page[0].Command, page[0].ExitCode)); // only what the server needs: id and state
        Assert.Equal("true", page[1].Command); // a waiting job is read whole (its Reason may be filled in)

        var json = JsonSerializer.Serialize(new Goq.Protocol.JobsReply(page, []), Goq.Protocol.GoqJson.JobsReply);
        var received = JsonSerializer.Deserialize(json, Goq.Protocol.GoqJson.JobsReply)!.Jobs;
        Assert.Equal(("echo done", 3, "exit code 3", "gpu", TimeSpan.FromSeconds(1.5), JobState.Failed),
            (received[0].Command, received[0].ExitCode!.Value, received[0].Reason, received[0].Queue, received[0].UserCpuTime!.Value, received[0].State));
        Assert.Equal((first + 1, "true"), (received[1].Id, received[1].Command));
        Assert.Equal(JsonSerializer.Serialize(store.Get(first)!, Goq.Protocol.GoqJson.JobInfo),
            JsonSerializer.Serialize(received[0], Goq.Protocol.GoqJson.JobInfo));
    }

    [Fact]
    public void CorruptFile_IsAClearError_NeverAReset()
    {
        File.WriteAllText(DbPath, "this is not a database, but somebody's data" + new string('x', 5000));
        var ex = Assert.Throws<GoqException>(() => new SqliteJobStore(DbPath));
        Assert.Equal(GoqErrorIds.StoreUnusable, ex.ErrorId);
        Assert.Contains(DbPath, ex.Message);
        Assert.StartsWith("this is not a database", File.ReadAllText(DbPath));
    }

    [Fact]
    public void NewerSchema_IsAClearError()
    {
        using (var store = new SqliteJobStore(DbPath))
        {
        }

        using (var db = new SqliteConnection($"Data Source={DbPath};Pooling=false"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "UPDATE meta SET value = '99' WHERE key = 'schema_version'";
            cmd.ExecuteNonQuery();
        }

        var ex = Assert.Throws<GoqException>(() => new SqliteJobStore(DbPath));
        Assert.Equal(GoqErrorIds.StoreUnusable, ex.ErrorId);
        Assert.Contains("schema version 99", ex.Message);
    }

    public void Dispose() => _dir.Dispose();
}
