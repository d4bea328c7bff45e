using System.Text.Json;
using Goq.Identity;
using Goq.Protocol;
using Goq.Storage;

namespace Goq.Tests.Storage;

/// <summary>
/// What every durable store promises the server (<see cref="IJobStore"/>, <see cref="IJobReader"/>), whatever database
/// holds the rows: one suite, run against each <see cref="StagedJobStore"/> by a subclass that says how to open it.
/// A "restart" is a dispose and a new <see cref="Open"/>; a "crash" is a new <see cref="Open"/> beside a store that
/// still holds staged changes (its dispose would commit them).
/// </summary>
public abstract class JobStoreContract : IDisposable
{
    protected static readonly DateTimeOffset T0 = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    /// <summary>A submitter's environment, shared (the same dictionary) by every job of a batch.</summary>
    protected static readonly Dictionary<string, string> Env = new()
    {
        ["PATH"] = "/usr/local/bin:/usr/bin",
        ["Path"] = "differs only by case",
        ["EMPTY"] = "",
        ["QUOTED"] = "say \"hi\" = 'x' \\ back",
        ["UNICODE"] = "grüße ✓",
    };

    /// <summary>
    /// Opens the store under test: a fresh, empty one the first time; the same stored data on each later call (a "restart").
    /// Each call returns a new instance; the test disposes it. May call Skip.If(...) when the store cannot be had.
    /// </summary>
    protected abstract StagedJobStore Open();

    public virtual void Dispose()
    {
    }

    // --- empty store, staging, commit -------------------------------------------------------------------------------

    [SkippableFact]
    public void AFreshStore_IsEmpty_AndHandsOutIdsFromOne()
    {
        using var store = Open();
        Assert.Equal(1, store.NextJobId);
        Assert.False(store.HasChanges);
        Assert.Empty(store.Query(null, null));
        Assert.Null(store.Get(1));
        Assert.Null(store.GetSpec(1));
        Assert.Null(store.GetOutputIndex(1));
        Assert.Null(store.GetArray(1));
        Assert.Null(store.FindBatch("any"));
        Assert.Empty(store.LoadActive());
        Assert.Empty(store.LoadActiveArrays());
        Assert.Empty(store.CountEnded());
        Assert.Empty(store.LoadJobs([1, 2]));
        Assert.All(store.CountStates([JobState.Waiting, JobState.Completed]).Values, count => Assert.Equal(0, count));
        Assert.Equal((0L, 0L, 0L), (store.Counters.FinishedJobs, store.Counters.CancelledJobs, store.Counters.DeadWorkerResubmits));
        Assert.Empty(store.Counters.QueueLimits);
        Assert.Empty(store.Counters.LoadUsers());
    }

    [SkippableFact]
    public void NothingStaged_SurvivesACrash_AndEverythingCommitted_SurvivesARestart()
    {
        var user = new GoqUser { Name = "ann", Role = GoqRole.Operator, KeyId = "a1b2", Created = T0 };
        long first, array;
        using (var store = Open())
        {
            first = store.AllocateIds(2);
            Insert(store, Job(first));
            store.Commit();
            Assert.False(store.HasChanges);

            // Staged, not committed: a change of a stored job, a new job, its output index, an array, a batch, counters, settings.
            store.Update(Job(first, JobState.Running));
            Insert(store, Job(first + 1));
            store.SaveOutputIndex(first, new OutputIndex(0, 3, [3]));
            array = store.AllocateIds(3);
            store.InsertArray(Job(array, JobState.Running, j => j.TaskCount = 2), SpecOf(Job(array)) with { ArrayIndex = [0, 1] });
            store.RecordBatch("batch-1", first + 1, 1, DateTimeOffset.UtcNow);
            store.Count(StoreCounter.FinishedJobs);
            store.SetQueueLimit("gpu", 2);
            store.Counters.SaveUser(user);
            Assert.True(store.HasChanges);
            Assert.Equal(JobState.Running, store.Get(first)!.State); // the owner reads what it staged at once
            Assert.Equal((first + 1, 1), store.FindBatch("batch-1"));

            using (var crashed = Open()) // what a crash now would leave
            {
                Assert.Equal(JobState.Waiting, crashed.Get(first)!.State);
                Assert.Null(crashed.Get(first + 1));
                Assert.Null(crashed.GetSpec(first + 1));
                Assert.Null(crashed.GetOutputIndex(first));
                Assert.Null(crashed.GetArray(array));
                Assert.Null(crashed.FindBatch("batch-1"));
                Assert.Equal(0, crashed.Counters.FinishedJobs);
                Assert.Empty(crashed.Counters.QueueLimits);
                Assert.Empty(crashed.Counters.LoadUsers());
                Assert.Equal([first], Ids(crashed.Query(null, null)));
                Assert.Equal(1, crashed.CountStates([JobState.Waiting])[JobState.Waiting]);
                Assert.Equal(0, crashed.CountStates([JobState.Running])[JobState.Running]);
                Assert.Empty(crashed.LoadActiveArrays());
            }

            store.Commit();
            Assert.False(store.HasChanges);
        }

        using var restarted = Open();
        Assert.False(restarted.HasChanges);
        Assert.Equal(JobState.Running, restarted.Get(first)!.State);
        Assert.Equal(JobState.Waiting, restarted.Get(first + 1)!.State);
        Assert.Equal($"echo {first + 1}", restarted.GetSpec(first + 1)!.Command);
        Assert.Equal(3, restarted.GetOutputIndex(first)!.Lines);
        Assert.Equal([0, 1], restarted.GetArray(array)!.Value.Spec.ArrayIndex!);
        Assert.Equal((first + 1, 1), restarted.FindBatch("batch-1"));
        Assert.Equal(1, restarted.Counters.FinishedJobs);
        Assert.Equal(new Dictionary<string, int> { ["gpu"] = 2 }, restarted.Counters.QueueLimits);
        Assert.Equal("ann", Assert.Single(restarted.Counters.LoadUsers()).Name);
        Assert.Equal(array + 3, restarted.NextJobId);
    }

    [SkippableFact]
    public void Dispose_CommitsWhatIsStaged()
    {
        long id;
        using (var store = Open())
        {
            id = store.AllocateIds(1);
            Insert(store, Job(id));
            store.SetQueueLimit("cpu", 4);
        }

        using var restarted = Open();
        Assert.Equal(JobState.Waiting, restarted.Get(id)!.State);
        Assert.Equal(4, restarted.Counters.QueueLimits["cpu"]);
    }

    [SkippableFact]
    public void HasChanges_SaysWhetherACommitHasAnythingToWrite()
    {
        using var store = Open();
        var id = store.AllocateIds(1);
        Insert(store, Job(id));
        Assert.True(store.HasChanges);
        store.Commit();
        Assert.False(store.HasChanges);

        store.SaveOutputIndex(id, new OutputIndex(0, 1, [1]));
        Assert.True(store.HasChanges);
        store.Commit();
        Assert.False(store.HasChanges);

        store.SetQueueLimit("gpu", 1);
        Assert.True(store.HasChanges);
        store.Commit();
        Assert.False(store.HasChanges);

        store.RecordBatch("b", id, 1, DateTimeOffset.UtcNow);
        Assert.True(store.HasChanges);
        store.Commit();
        Assert.False(store.HasChanges);
    }

    // --- jobs and specs --------------------------------------------------------------------------------------------

    [SkippableFact]
    public void AJobAndItsSpec_SurviveARestart_FieldForField()
    {
        var id = 0L;
        JobInfo job = null!;
        JobSpec spec = null!;
        using (var store = Open())
        {
            id = store.AllocateIds(1);
            job = Job(id, JobState.Running, j =>
            {
                j.Name = "nightly build";
                j.Kind = JobKind.Exec;
                j.ArgumentList = ["-c", "a b", "\"q\""];
                j.Priority = -7;
                j.Queue = "gpu";
                j.SlotCount = 4;
                j.Require = ["gpu", "bigmem"];
                j.DependsOn = [];
                j.NotBefore = T0.AddHours(-1);
                j.WorkerHost = "node7";
                j.Pid = 4242;
                j.OutputPath = "/var/goq/out.00001";
                j.Attempts = 2;
                j.AttemptsBeforeRun = 1;
                j.Retries = 1;
                j.History = [new JobAttempt { JobId = id, Attempt = 1, State = JobState.Failed, ExitCode = 3, StartedAt = T0, FinishedAt = T0.AddSeconds(5), MaxMemoryBytes = 4096 }];
            });
            spec = SpecOf(job) with
            {
                ArgumentList = ["-c", "a b", "\"q\""],
                Environment = new Dictionary<string, string> { ["MODE"] = "fast", ["X"] = "" },
                TimeoutSec = 600,
                MaxAttempts = 5,
                RetryCount = 2,
                RetryDelaySec = 30,
                ScriptData = "<Objs>\n<unclosed & raw",
                SerializationDepth = 4,
                RunAsOwner = true,
            };
            store.Insert(job, spec);
            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal(JsonSerializer.Serialize(job, GoqJson.JobInfo), JsonSerializer.Serialize(restarted.Get(id)!, GoqJson.JobInfo));
        var stored = restarted.GetSpec(id)!;
        Assert.Equal(Env, stored.CapturedEnvironment!.ToDictionary());
        Assert.Equal(spec.Environment!.ToDictionary(), stored.Environment!.ToDictionary());
        Assert.Equal(JsonSerializer.Serialize(spec with { CapturedEnvironment = null, Environment = null }, GoqJson.JobSpec),
            JsonSerializer.Serialize(stored with { CapturedEnvironment = null, Environment = null }, GoqJson.JobSpec));
    }

    [SkippableFact]
    public void AnEnvironmentSharedByManyJobs_ComesBackEqual_ForEachOfThem_AcrossRestarts()
    {
        var other = new Dictionary<string, string> { ["ONLY"] = "mine" };
        var sameContent = Env.ToDictionary(); // another dictionary with the same variables
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(40);
            for (var i = 0; i < 30; i++)
            {
                var job = Job(first + i);
                store.Insert(job, SpecOf(job, Env));
            }

            store.Commit();
            for (var i = 30; i < 40; i++) // a later commit: the same environment again, an equal one, another, none
            {
                var job = Job(first + i);
                var env = i < 34 ? Env : i < 37 ? sameContent : i < 39 ? other : null;
                store.Insert(job, SpecOf(job) with { CapturedEnvironment = env });
            }

            store.Commit();
        }

        long late;
        using (var restarted = Open())
        {
            // After a restart, a job brings the same environment again: it is stored already.
            late = restarted.AllocateIds(1);
            var job = Job(late);
            restarted.Insert(job, SpecOf(job, Env.ToDictionary()));
            restarted.Commit();
        }

        using var again = Open();
        for (var i = 0; i < 37; i++)
        {
            Assert.Equal(Env, again.GetSpec(first + i)!.CapturedEnvironment!.ToDictionary());
        }

        Assert.Equal(other, again.GetSpec(first + 37)!.CapturedEnvironment!.ToDictionary());
        Assert.Equal(other, again.GetSpec(first + 38)!.CapturedEnvironment!.ToDictionary());
        Assert.Null(again.GetSpec(first + 39)!.CapturedEnvironment);
        Assert.Equal(Env, again.GetSpec(late)!.CapturedEnvironment!.ToDictionary());
        var loaded = again.LoadActive();
        Assert.Equal(41, loaded.Count);
        Assert.All(loaded.Where(l => l.Job.Id < first + 37 || l.Job.Id == late), l => Assert.Equal(Env, l.Spec.CapturedEnvironment!.ToDictionary()));
        Assert.All(again.LoadJobs([first, first + 35, late]), l => Assert.Equal(Env, l.Spec.CapturedEnvironment!.ToDictionary()));
    }

    [SkippableFact]
    public void AnUpdateAfterAnInsert_InOneCommit_StoresTheJobWithItsSpec()
    {
        long id;
        using (var store = Open())
        {
            id = store.AllocateIds(1);
            Insert(store, Job(id, set: j => j.Name = "first"));
            store.Update(Job(id, JobState.Running, j => j.Name = "first"));
            Assert.Equal(JobState.Running, store.Get(id)!.State);
            Assert.Equal($"echo {id}", store.GetSpec(id)!.Command);
            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal(JobState.Running, restarted.Get(id)!.State);
        var spec = restarted.GetSpec(id)!;
        Assert.Equal(($"echo {id}", "first"), (spec.Command, spec.Name));
        Assert.Equal(Env, spec.CapturedEnvironment!.ToDictionary());
        var (job, loadedSpec) = Assert.Single(restarted.LoadActive());
        Assert.Equal((id, JobState.Running, $"echo {id}"), (job.Id, job.State, loadedSpec.Command));
    }

    [SkippableFact]
    public void AnUpdateOfACommittedJob_ReplacesItsRecord_AndKeepsItsSpec()
    {
        long id;
        using (var store = Open())
        {
            id = store.AllocateIds(2);
            Insert(store, Job(id));
            Insert(store, Job(id + 1));
            store.Commit();
        }

        using (var store = Open())
        {
            var job = store.Get(id)!;
            job.State = JobState.Completed;
            job.ExitCode = 0;
            job.FinishedAt = T0.AddMinutes(3);
            job.Reason = "done";
            store.Update(job);
            Assert.Equal($"echo {id}", store.GetSpec(id)!.Command); // the stored spec, under a staged record
            store.Commit();
        }

        using var restarted = Open();
        var updated = restarted.Get(id)!;
        Assert.Equal((JobState.Completed, 0, "done", T0.AddMinutes(3)), (updated.State, updated.ExitCode!.Value, updated.Reason, updated.FinishedAt!.Value));
        Assert.Equal($"echo {id}", restarted.GetSpec(id)!.Command);
        Assert.Equal(Env, restarted.GetSpec(id)!.CapturedEnvironment!.ToDictionary());
        Assert.Equal(JobState.Waiting, restarted.Get(id + 1)!.State);
    }

    // --- ids ---------------------------------------------------------------------------------------------------------

    [SkippableFact]
    public void AllocateIds_GivesConsecutiveRanges_NeverHandedOutAgain_EvenWhenTheirJobsAreRemoved()
    {
        long a, b;
        using (var store = Open())
        {
            a = store.AllocateIds(3);
            b = store.AllocateIds(2);
            Assert.Equal(a + 3, b);
            Assert.Equal(b + 2, store.NextJobId);
            for (var id = a; id < b + 2; id++)
            {
                Insert(store, Job(id, JobState.Completed));
            }

            store.Commit();
            Assert.Equal([a, a + 1, a + 2, b, b + 1], store.Remove([a, a + 1, a + 2, b, b + 1]).Order());
            Assert.Empty(store.Query(null, null));
        }

        using (var restarted = Open())
        {
            Assert.Equal(b + 2, restarted.NextJobId); // every job removed: the ids stay used
            var c = restarted.AllocateIds(1);
            Assert.Equal(b + 2, c);
            var d = restarted.AllocateIds(4);
            Assert.Equal(c + 1, d);
            Insert(restarted, Job(c)); // the range is committed with its first job, the rest not made yet
            restarted.Commit();
        }

        using var again = Open();
        Assert.Equal(b + 7, again.NextJobId);
    }

    [SkippableFact]
    public void NextJobId_AfterARestart_IsPastEveryStoredJob_EvenWhenTheMetaRowIsBehind()
    {
        using (var store = Open())
        {
            // Stored without allocating: the next id the store keeps stays behind the jobs.
            Insert(store, Job(41));
            Insert(store, Job(7, JobState.Completed));
            store.Commit();
        }

        using (var restarted = Open())
        {
            Assert.Equal(42, restarted.NextJobId);
            Assert.Equal(42, restarted.AllocateIds(1));
        }
    }

    [SkippableFact]
    public void NextJobId_AfterARestart_IsPastAnArraysLastTask_MadeOrNot_EvenWhenTheMetaRowIsBehind()
    {
        using (var store = Open())
        {
            // An array of 100 tasks at id 20 with one task made, stored without allocating its ids.
            store.InsertArray(Job(20, JobState.Running, j => j.TaskCount = 100), SpecOf(Job(20)) with { ArrayIndex = [.. Enumerable.Range(1, 100)] });
            Insert(store, Job(21, set: j => { j.ArrayJobId = 20; j.ArrayIndex = 1; }));
            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal(121, restarted.NextJobId);
    }

    // --- Query -------------------------------------------------------------------------------------------------------

    [SkippableFact]
    public void Query_ByIdsAndStates_GivesTheMatchingJobsInIdOrder()
    {
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(5);
            JobState[] states = [JobState.Waiting, JobState.Running, JobState.Completed, JobState.Failed, JobState.Held];
            for (var i = 0; i < 5; i++)
            {
                Insert(store, Job(first + i, states[i]));
            }

            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal([first, first + 1, first + 2, first + 3, first + 4], Ids(restarted.Query(null, null)));
        Assert.Equal([first + 1, first + 3], Ids(restarted.Query([first + 3, first + 1, 9_999], null)));
        Assert.Empty(restarted.Query([], null));
        Assert.Equal([first + 2, first + 3], Ids(restarted.Query(null, [JobState.Failed, JobState.Completed])));
        Assert.Empty(restarted.Query(null, []));
        Assert.Empty(restarted.Query(null, [JobState.Cancelled]));
        Assert.Equal([first + 2], Ids(restarted.Query([first, first + 2], JobStateExtensions.Terminal.ToList())));
        var running = Assert.Single(restarted.Query(null, [JobState.Running]));
        Assert.Equal((first + 1, $"echo {first + 1}", "w1"), (running.Id, running.Command, running.WorkerId));
    }

    [SkippableFact]
    public void Query_PagesByAfterIdAndLimit_WithStagedChangesMergedIn()
    {
        using (var store = Open())
        {
            var first = store.AllocateIds(12);
            Assert.Equal(1, first);
            for (var id = 1; id <= 12; id++)
            {
                Insert(store, Job(id));
            }

            store.Commit();
        }

        using var restarted = Open();
        restarted.Update(Job(3, JobState.Running)); // out of the waiting jobs
        restarted.Update(Job(7, JobState.Completed));
        Insert(restarted, Job(restarted.AllocateIds(1))); // 13, staged only

        Assert.Equal([[1L, 2L, 4L, 5L], [6L, 8L, 9L, 10L], [11L, 12L, 13L]], Pages(restarted, [JobState.Waiting], 4));
        Assert.Equal([[1L, 2L, 3L, 4L, 5L], [6L, 7L, 8L, 9L, 10L], [11L, 12L, 13L]], Pages(restarted, null, 5));
        Assert.Equal([[3L, 7L]], Pages(restarted, [JobState.Running, JobState.Completed], 2));
        Assert.Equal([6L, 8L], Ids(restarted.Query(null, [JobState.Waiting], afterId: 5, limit: 2)));
        Assert.Equal([13L], Ids(restarted.Query(null, null, afterId: 12, limit: 10)));
        Assert.Empty(restarted.Query(null, null, afterId: 13, limit: 10));
    }

    [SkippableFact]
    public void Query_AStagedStateChange_MovesAJobFromOneStateFilterToAnother()
    {
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(4);
            for (var i = 0; i < 4; i++)
            {
                Insert(store, Job(first + i));
            }

            store.Commit();
        }

        using var restarted = Open();
        restarted.Update(Job(first + 1, JobState.Running));
        Insert(restarted, Job(restarted.AllocateIds(1), JobState.Held));
        Assert.Equal([first, first + 2, first + 3], Ids(restarted.Query(null, [JobState.Waiting])));
        Assert.Equal([first + 1], Ids(restarted.Query(null, [JobState.Running])));
        Assert.Equal([first + 4], Ids(restarted.Query(null, [JobState.Held])));
        Assert.Empty(restarted.Query([first + 1], [JobState.Waiting]));
        Assert.Equal(JobState.Running, Assert.Single(restarted.Query([first + 1], null)).State);
        Assert.Equal(JobState.Running, Assert.Single(restarted.Query([first + 1], null, toSend: true)).State);
    }

    [SkippableFact]
    public void ACounterCountedAlone_IsAChange_AndSurvivesARestart()
    {
        using (var store = Open())
        {
            store.Count(StoreCounter.DeadWorkerResubmits);
            Assert.True(store.HasChanges);
            store.Commit();
            Assert.False(store.HasChanges);
        }

        using var restarted = Open();
        Assert.Equal(1, restarted.Counters.DeadWorkerResubmits);
    }

    [SkippableFact]
    public void Query_Filters_ByOwnerQueueSubmitterAndTimeWindow_StoredAndStaged()
    {
        JobInfo Filtered(long id, string by, string owner, string queue, int submittedMin, int? finishedMin) =>
            Job(id, finishedMin is null ? JobState.Waiting : JobState.Completed, j =>
            {
                (j.SubmittedBy, j.Owner, j.Queue, j.SubmittedAt) = (by, owner, queue, T0.AddMinutes(submittedMin));
                j.StartedAt = finishedMin is null ? null : j.SubmittedAt;
                j.FinishedAt = finishedMin is { } f ? T0.AddMinutes(f) : null;
            });

        long a;
        using (var store = Open())
        {
            a = store.AllocateIds(5);
            Insert(store, Filtered(a, "ann@a", "ann", JobSpec.DefaultQueue, 0, 10));
            Insert(store, Filtered(a + 1, "bob@b", "bob", "gpu", 20, 30));
            Insert(store, Filtered(a + 2, "ANN@c", "ann", "gpu", 40, null));
            Insert(store, Filtered(a + 3, "annie@a", "Ann", JobSpec.DefaultQueue, 50, null));
            Insert(store, Filtered(a + 4, "ann_x@a", "carol", "cpu", 60, 61));
            store.Commit();
        }

        using var restarted = Open();
        Insert(restarted, Filtered(restarted.AllocateIds(1), "ann@z", "ann", "gpu", 70, null)); // a + 5, staged only
        long[] Matching(JobFilter filter) => Ids(restarted.Query(null, null, filter: filter));

        Assert.Equal([a, a + 2, a + 5], Matching(new JobFilter { Owner = "ann" }));
        Assert.Equal([a + 3], Matching(new JobFilter { Owner = "Ann" })); // exactly
        Assert.Equal([a + 1, a + 2, a + 5], Matching(new JobFilter { Queues = ["gpu"] }));
        Assert.Equal([a, a + 3], Matching(new JobFilter { Queues = [JobSpec.DefaultQueue, "none"] }));
        Assert.Empty(Matching(new JobFilter { Queues = [] }));
        Assert.Equal([a, a + 2, a + 5], Matching(new JobFilter { SubmittedBy = "ann" })); // any host, any case; not annie, not ann_x
        Assert.Equal([a], Matching(new JobFilter { SubmittedBy = "Ann@A" }));
        Assert.Equal([a + 4], Matching(new JobFilter { SubmittedBy = "ann_x" }));
        Assert.Empty(Matching(new JobFilter { SubmittedBy = "an_" })); // '_' and '%' are no wildcards here
        Assert.Empty(Matching(new JobFilter { SubmittedBy = "ann%" }));
        Assert.Equal([a + 1, a + 2, a + 3, a + 4, a + 5], Matching(new JobFilter { Since = T0.AddMinutes(15) }));
        Assert.Equal([a + 1, a + 2, a + 3, a + 4, a + 5], Matching(new JobFilter { Since = T0.AddMinutes(30) })); // ended at it: in
        Assert.Equal([a + 2, a + 3, a + 4, a + 5], Matching(new JobFilter { Since = T0.AddMinutes(31) }));
        Assert.Equal([a, a + 1], Matching(new JobFilter { Until = T0.AddMinutes(20) })); // submitted at it: in
        Assert.Equal([a], Matching(new JobFilter { Until = T0.AddMinutes(19) }));
        Assert.Equal([a + 1, a + 2], Matching(new JobFilter { Since = T0.AddMinutes(15), Until = T0.AddMinutes(45) }));
        Assert.Equal([a + 2, a + 5], Matching(new JobFilter { Owner = "ann", Queues = ["gpu"] }));
        Assert.Equal([a + 2], Matching(new JobFilter { Owner = "ann", Queues = ["gpu"] } with { Until = T0.AddMinutes(65) }));
        Assert.Equal([a + 5], Ids(restarted.Query(null, [JobState.Waiting], afterId: a + 2, filter: new JobFilter { Owner = "ann" })));
    }

    [SkippableFact]
    public void Query_ByName_MatchesWildcardsWithoutRegardToCase_AndTakesEveryOtherCharacterAsItIs()
    {
        string?[] names = ["Build-1", "build-two", "rebuild-1", null, "build", "a_b", "axb", "100%", "1000", "x.y", "xzy"];
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(names.Length);
            for (var i = 0; i < names.Length; i++)
            {
                Insert(store, Job(first + i, set: j => j.Name = names[i]));
            }

            store.Commit();
        }

        using var restarted = Open();
        var staged = restarted.AllocateIds(1);
        Insert(restarted, Job(staged, set: j => j.Name = "BUILD-staged"));
        string[] Matching(params string[] patterns) =>
            [.. restarted.Query(null, null, filter: new JobFilter { Names = patterns }).Select(j => j.Name ?? "(no name)")];

        Assert.Equal(["Build-1", "build-two", "BUILD-staged"], Matching("build-*"));
        Assert.Equal(["build"], Matching("BUILD"));
        Assert.Equal(["build"], Matching("?uild"));
        Assert.Equal(["a_b"], Matching("a_b")); // '_' is no wildcard
        Assert.Equal(["100%"], Matching("100%")); // nor is '%'
        Assert.Equal(["x.y"], Matching("x.y")); // nor '.'
        Assert.Equal(["a_b", "axb"], Matching("a[_x]b"));
        Assert.Equal(["Build-1", "rebuild-1"], Matching("*-[0-9]"));
        Assert.Equal(["rebuild-1", "100%"], Matching("nothing", "re*", "*%"));
        Assert.Equal(names.OfType<string>().Append("BUILD-staged").ToArray(), Matching("*")); // a job without a name has none to match
        Assert.Empty(Matching("uild"));
        Assert.Equal(["build-two"], restarted.Query(null, null, afterId: first, limit: 1, filter: new JobFilter { Names = ["build-*"] }).Select(j => j.Name));
    }

    [SkippableFact]
    public void Query_ArrayTasksFalse_ArrayIndexes_AndDismissed_SelectStoredAndStagedJobs()
    {
        long array, plain;
        using (var store = Open())
        {
            array = store.AllocateIds(1 + 3);
            store.InsertArray(Job(array, JobState.Running, j => j.TaskCount = 3), SpecOf(Job(array)) with { ArrayIndex = [0, 1, 2] });
            Insert(store, Job(array + 1, JobState.Completed, j => { j.ArrayJobId = array; j.ArrayIndex = 0; }));
            Insert(store, Job(array + 2, JobState.Running, j => { j.ArrayJobId = array; j.ArrayIndex = 1; })); // task 2 not made yet
            plain = store.AllocateIds(2);
            Insert(store, Job(plain, JobState.Completed, j => j.Dismissed = true));
            Insert(store, Job(plain + 1, JobState.Completed));
            store.Commit();
        }

        using var restarted = Open();
        long[] Matching(JobFilter filter) => Ids(restarted.Query(null, null, filter: filter));
        Assert.Equal([plain, plain + 1], Matching(new JobFilter { ArrayTasks = false })); // an array's own record is no job in the list
        Assert.Equal([array + 1, array + 2, plain, plain + 1], Matching(new JobFilter { ArrayTasks = true }));
        Assert.Equal([array + 2], Matching(new JobFilter { ArrayIndexes = [1, 2] }));
        Assert.Equal([plain], Matching(new JobFilter { Dismissed = true }));
        Assert.Equal([array + 1, array + 2, plain + 1], Matching(new JobFilter { Dismissed = false }));

        var dismissed = restarted.Get(plain + 1)!;
        dismissed.Dismissed = true;
        restarted.Update(dismissed); // staged only
        Assert.Equal([plain, plain + 1], Matching(new JobFilter { Dismissed = true }));
        Assert.Equal([array + 1, array + 2], Matching(new JobFilter { Dismissed = false }));
        Assert.Empty(Matching(new JobFilter { ArrayTasks = false, Dismissed = false }));
        restarted.Commit();

        using var again = Open();
        Assert.Equal([plain, plain + 1], Ids(again.Query(null, null, filter: new JobFilter { Dismissed = true })));
    }

    [SkippableFact]
    public void Query_ToSend_GivesEveryMatchingJob_WithItsIdAndState()
    {
        long first;
        JobState[] states = [JobState.Completed, JobState.Waiting, JobState.Failed, JobState.Running, JobState.DependencyFailed, JobState.Held];
        using (var store = Open())
        {
            first = store.AllocateIds(states.Length);
            for (var i = 0; i < states.Length; i++)
            {
                Insert(store, Job(first + i, states[i], j => j.ExitCode = states[i] == JobState.Failed ? 3 : j.ExitCode));
            }

            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal(states.Select((s, i) => (first + i, s)), restarted.Query(null, null, toSend: true).Select(j => (j.Id, j.State)));
        Assert.Equal([(first, JobState.Completed), (first + 2, JobState.Failed)],
            restarted.Query(null, [JobState.Failed, JobState.Completed], toSend: true).Select(j => (j.Id, j.State)));
        Assert.Equal([(first + 2, JobState.Failed)], restarted.Query([first + 2], null, toSend: true).Select(j => (j.Id, j.State)));

        restarted.Update(Job(first + 1, JobState.Cancelled)); // staged: merged into a page to send too
        Assert.Equal([(first + 1, JobState.Cancelled)], restarted.Query(null, [JobState.Cancelled], toSend: true).Select(j => (j.Id, j.State)));
        Assert.Equal([(first + 2, JobState.Failed), (first + 3, JobState.Running)],
            restarted.Query(null, null, afterId: first + 1, limit: 2, toSend: true).Select(j => (j.Id, j.State)));
    }

    // --- counts ------------------------------------------------------------------------------------------------------

    [SkippableFact]
    public void CountStates_CountsStoredJobs_WithStagedChangesInTheirNewState()
    {
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(5);
            JobState[] states = [JobState.Waiting, JobState.Waiting, JobState.Running, JobState.Completed, JobState.Held];
            for (var i = 0; i < 5; i++)
            {
                Insert(store, Job(first + i, states[i]));
            }

            store.Commit();
        }

        using var restarted = Open();
        JobState[] asked = [JobState.Waiting, JobState.Running, JobState.Completed, JobState.Failed, JobState.Held, JobState.Cancelled];
        Assert.Equal(new Dictionary<JobState, long>
        {
            [JobState.Waiting] = 2, [JobState.Running] = 1, [JobState.Completed] = 1, [JobState.Failed] = 0, [JobState.Held] = 1, [JobState.Cancelled] = 0,
        }, restarted.CountStates(asked).ToDictionary());

        restarted.Update(Job(first + 1, JobState.Running));
        restarted.Update(Job(first + 2, JobState.Completed));
        var more = restarted.AllocateIds(3);
        Insert(restarted, Job(more, JobState.Failed));
        Insert(restarted, Job(more + 1));
        Insert(restarted, Job(more + 2));
        restarted.Update(Job(more + 2, JobState.Running)); // inserted and changed before a commit: counted once
        Assert.Equal(new Dictionary<JobState, long>
        {
            [JobState.Waiting] = 2, [JobState.Running] = 2, [JobState.Completed] = 2, [JobState.Failed] = 1, [JobState.Held] = 1, [JobState.Cancelled] = 0,
        }, restarted.CountStates(asked).ToDictionary());
        Assert.Equal([JobState.Completed], restarted.CountStates([JobState.Completed]).Keys);
        restarted.Commit();

        using var again = Open();
        Assert.Equal(2, again.CountStates(asked)[JobState.Running]);
        Assert.Equal(2, again.CountStates(asked)[JobState.Waiting]);
    }

    [SkippableFact]
    public void CountEnded_CountsCommittedEndedJobs_ByQueueAndState()
    {
        (string Queue, JobState State)[] jobs =
        [
            (JobSpec.DefaultQueue, JobState.Completed), (JobSpec.DefaultQueue, JobState.Completed), ("gpu", JobState.Failed), ("gpu", JobState.Completed),
            ("gpu", JobState.Running), ("cpu", JobState.Cancelled), (JobSpec.DefaultQueue, JobState.DependencyFailed), ("cpu", JobState.Waiting),
        ];
        using (var store = Open())
        {
            var first = store.AllocateIds(jobs.Length);
            for (var i = 0; i < jobs.Length; i++)
            {
                Insert(store, Job(first + i, jobs[i].State, j => j.Queue = jobs[i].Queue));
            }

            store.Commit();
        }

        (string, JobState, long)[] expected =
        [
            ("cpu", JobState.Cancelled, 1), (JobSpec.DefaultQueue, JobState.Completed, 2), (JobSpec.DefaultQueue, JobState.DependencyFailed, 1),
            ("gpu", JobState.Completed, 1), ("gpu", JobState.Failed, 1),
        ];
        using var restarted = Open();
        Assert.Equal(expected, Sorted(restarted.CountEnded()));

        Insert(restarted, Job(restarted.AllocateIds(1), JobState.Completed, j => j.Queue = "cpu")); // staged: not counted
        Assert.Equal(expected, Sorted(restarted.CountEnded()));
        restarted.Commit();
        Assert.Contains(("cpu", JobState.Completed, 1L), restarted.CountEnded());
    }

    // --- loading the queue after a restart -------------------------------------------------------------------------

    [SkippableFact]
    public void LoadActive_GivesWaitingRunningHeldAndBlockedJobsWhole_InIdOrder_StagedOnesIncluded()
    {
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(6);
            Insert(store, Job(first, JobState.Running));
            Insert(store, Job(first + 1));
            Insert(store, Job(first + 2, JobState.Completed));
            Insert(store, Job(first + 3, JobState.Held));
            Insert(store, Job(first + 4, JobState.Blocked, j => j.DependsOn = [first]));
            Insert(store, Job(first + 5, JobState.Cancelled));
            store.Commit();
        }

        using var restarted = Open();
        var staged = restarted.AllocateIds(1);
        Insert(restarted, Job(staged));
        restarted.Update(Job(first + 1, JobState.Running));
        var loaded = restarted.LoadActive();
        Assert.Equal([first, first + 1, first + 3, first + 4, staged], loaded.Select(l => l.Job.Id));
        Assert.Equal([JobState.Running, JobState.Running, JobState.Held, JobState.Blocked, JobState.Waiting], loaded.Select(l => l.Job.State));
        Assert.All(loaded, l => Assert.Equal($"echo {l.Job.Id}", l.Spec.Command));
        Assert.Equal([first], loaded[3].Job.DependsOn);
        Assert.Equal([first], loaded[3].Spec.DependsOn);
    }

    [SkippableFact]
    public void LoadActive_PlainWaitingJobsPastTheFirstN_ComeAsTheirPlaceInTheQueue()
    {
        long f;
        using (var store = Open())
        {
            f = store.AllocateIds(11);
            Insert(store, Job(f)); // plain
            Insert(store, Job(f + 1, set: j => { j.Priority = 5; j.Queue = "gpu"; j.SlotCount = 4; j.Require = ["gpu", "bigmem"]; })); // plain
            Insert(store, Job(f + 2, JobState.Running));
            Insert(store, Job(f + 3, JobState.Held));
            Insert(store, Job(f + 4, JobState.Blocked, j => j.DependsOn = [f + 2]));
            Insert(store, Job(f + 5, set: j => j.NotBefore = T0.AddDays(1))); // waits for a time: not plain
            Insert(store, Job(f + 6, set: j => { j.Priority = -3; j.Queue = "cpu"; })); // plain
            Insert(store, Job(f + 7, JobState.Completed));
            Insert(store, Job(f + 8, set: j => { j.DependsOn = [f + 7]; j.DependencyMode = DependencyMode.AfterOk; })); // dependencies met, still not plain
            Insert(store, Job(f + 9, set: j => { j.ArrayJobId = f + 7; j.ArrayIndex = 0; })); // an array's task: not plain
            Insert(store, Job(f + 10, set: j => j.SlotCount = 2)); // plain
            store.Commit();
        }

        using var restarted = Open();
        var (whole, places) = restarted.LoadActive(1);
        Assert.Equal([f, f + 2, f + 3, f + 4, f + 5, f + 8, f + 9], whole.Select(w => w.Job.Id));
        Assert.All(whole, w => Assert.Equal($"echo {w.Job.Id}", w.Spec.Command));
        Assert.Equal([f + 1, f + 6, f + 10], places.Select(p => p.Id));
        Assert.Equal((5, "gpu", 4, "gpu,bigmem"), Described(places[0]));
        Assert.Equal((-3, "cpu", 1, ""), Described(places[1]));
        Assert.Equal((0, JobSpec.DefaultQueue, 2, ""), Described(places[2]));

        var (none, all) = restarted.LoadActive(0);
        Assert.Equal([f + 2, f + 3, f + 4, f + 5, f + 8, f + 9], none.Select(w => w.Job.Id));
        Assert.Equal([f, f + 1, f + 6, f + 10], all.Select(p => p.Id));
        Assert.Equal((0, JobSpec.DefaultQueue, 1, ""), Described(all[0]));

        var (every, nothing) = restarted.LoadActive(int.MaxValue);
        Assert.Equal([f, f + 1, f + 2, f + 3, f + 4, f + 5, f + 6, f + 8, f + 9, f + 10], every.Select(w => w.Job.Id));
        Assert.Empty(nothing);
        Assert.Equal(every.Select(w => w.Job.Id), restarted.LoadActive().Select(w => w.Job.Id));
    }

    [SkippableFact]
    public void LoadJobs_GivesWhatIsStagedOverWhatIsStored_EachACopyOfItsOwn()
    {
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(3);
            for (var i = 0; i < 3; i++)
            {
                Insert(store, Job(first + i));
            }

            store.Commit();
        }

        using var restarted = Open();
        var changed = Job(first, JobState.Running);
        restarted.Update(changed); // staged over the stored record
        var inserted = Job(restarted.AllocateIds(1), set: j => j.Priority = 9);
        Insert(restarted, inserted); // staged only

        var loaded = restarted.LoadJobs([first, inserted.Id, first + 2, 9_999]).OrderBy(l => l.Job.Id).ToList();
        Assert.Equal([first, first + 2, inserted.Id], loaded.Select(l => l.Job.Id));
        Assert.Equal([JobState.Running, JobState.Waiting, JobState.Waiting], loaded.Select(l => l.Job.State));
        Assert.All(loaded, l => Assert.Equal($"echo {l.Job.Id}", l.Spec.Command));
        Assert.All(loaded, l => Assert.Equal(Env, l.Spec.CapturedEnvironment!.ToDictionary()));
        Assert.Equal(9, loaded[2].Job.Priority);

        // The caller's own records: changing them changes nothing the store holds.
        Assert.NotSame(changed, loaded[0].Job);
        Assert.NotSame(inserted, loaded[2].Job);
        foreach (var (job, _) in loaded)
        {
            job.State = JobState.Cancelled;
            job.Priority = -1;
        }

        Assert.Equal(JobState.Running, restarted.Get(first)!.State);
        Assert.Equal((JobState.Waiting, 9), (restarted.Get(inserted.Id)!.State, restarted.Get(inserted.Id)!.Priority));
        Assert.Equal(JobState.Waiting, restarted.Get(first + 2)!.State);
        Assert.Equal(0, restarted.CountStates([JobState.Cancelled])[JobState.Cancelled]);
    }

    // --- arrays ------------------------------------------------------------------------------------------------------

    [SkippableFact]
    public void AnArray_IsStoredWithItsSpec_AndComesBackWithTheTasksMadeSoFar()
    {
        long a, after, done;
        using (var store = Open())
        {
            a = store.AllocateIds(1 + 5);
            var spec = SpecOf(Job(a)) with { ArrayIndex = [10, 20, 30, 40, 50], ThrottleLimit = 2 };
            store.InsertArray(Job(a, JobState.Running, j => { j.TaskCount = 5; j.Name = "sweep"; }), spec);
            Insert(store, Job(a + 1, JobState.Completed, j => { j.ArrayJobId = a; j.ArrayIndex = 10; }));
            store.Insert(Job(a + 2, JobState.Running, j => { j.ArrayJobId = a; j.ArrayIndex = 20; }),
                SpecOf(Job(a + 2)) with { ArrayTask = new ArrayTask(a, 20, 5) });
            after = store.AllocateIds(1);
            Insert(store, Job(after)); // a job of its own, after the array's ids

            done = store.AllocateIds(1 + 2);
            store.InsertArray(Job(done, JobState.Waiting, j => j.TaskCount = 2), SpecOf(Job(done)) with { ArrayIndex = [1, 2] });
            store.UpdateArray(Job(done, JobState.Completed, j => j.TaskCount = 2)); // changed before its first commit: the spec stays
            Assert.Equal([1, 2], store.GetArray(done)!.Value.Spec.ArrayIndex!);
            store.Commit();
        }

        using var restarted = Open();
        var (array, arraySpec) = restarted.GetArray(a)!.Value;
        Assert.Equal((a, "sweep", JobState.Running, 5), (array.Id, array.Name, array.State, array.TaskCount!.Value));
        Assert.Equal([10, 20, 30, 40, 50], arraySpec.ArrayIndex!);
        Assert.Equal(2, arraySpec.ThrottleLimit);
        Assert.Equal(Env, arraySpec.CapturedEnvironment!.ToDictionary());
        Assert.Equal(new ArrayTask(a, 20, 5), restarted.GetSpec(a + 2)!.ArrayTask);
        Assert.Null(restarted.GetArray(after)); // not an array
        Assert.Null(restarted.GetArray(a + 1)); // a task, not an array
        Assert.Null(restarted.GetArray(9_999));

        var (doneArray, doneSpec) = restarted.GetArray(done)!.Value;
        Assert.Equal(JobState.Completed, doneArray.State);
        Assert.Equal([1, 2], doneSpec.ArrayIndex!);

        var (active, activeSpec, tasks) = Assert.Single(restarted.LoadActiveArrays()); // not the ended one
        Assert.Equal((a, 5), (active.Id, activeSpec.ArrayIndex!.Count));
        Assert.Equal([(a + 1, JobState.Completed), (a + 2, JobState.Running)], tasks);
    }

    [SkippableFact]
    public void UpdateArray_ChangesTheRecordAndKeepsTheSpec_AndRemoveArrayForgetsIt()
    {
        long a, b;
        using (var store = Open())
        {
            a = store.AllocateIds(1 + 2);
            store.InsertArray(Job(a, JobState.Running, j => j.TaskCount = 2), SpecOf(Job(a)) with { ArrayIndex = [0, 1] });
            Insert(store, Job(a + 1, JobState.Completed, j => { j.ArrayJobId = a; j.ArrayIndex = 0; }));
            b = store.AllocateIds(1 + 3);
            store.InsertArray(Job(b, JobState.Held, j => j.TaskCount = 3), SpecOf(Job(b)) with { ArrayIndex = [0, 1, 2] });
            store.Commit();
        }

        using (var store = Open())
        {
            store.UpdateArray(Job(a, JobState.Completed, j => { j.TaskCount = 2; j.Priority = 3; }));
            var (staged, spec) = store.GetArray(a)!.Value; // a staged record over the stored spec
            Assert.Equal((JobState.Completed, 3), (staged.State, staged.Priority));
            Assert.Equal([0, 1], spec.ArrayIndex!);
            Assert.Equal([b], store.LoadActiveArrays().Select(x => x.Array.Id)); // it commits what is staged first
        }

        using (var store = Open())
        {
            var (array, spec) = store.GetArray(a)!.Value;
            Assert.Equal((JobState.Completed, 3), (array.State, array.Priority));
            Assert.Equal([0, 1], spec.ArrayIndex!);
            Assert.Equal([b], store.LoadActiveArrays().Select(x => x.Array.Id));

            store.Remove([a + 1]);
            store.RemoveArray(a);
            Assert.Null(store.GetArray(a));
            Assert.NotNull(store.GetArray(b));
        }

        using var restarted = Open();
        Assert.Null(restarted.GetArray(a));
        Assert.Null(restarted.Get(a + 1));
        Assert.Equal(JobState.Held, restarted.GetArray(b)!.Value.Array.State);
        Assert.Equal(b + 4, restarted.NextJobId); // past the arrays' ids, the removed one's too
    }

    // --- Remove ------------------------------------------------------------------------------------------------------

    [SkippableFact]
    public void Remove_ForgetsOnlyEndedJobs_AndReturnsTheirIds()
    {
        JobState[] states =
        [
            JobState.Completed, JobState.Failed, JobState.Cancelled, JobState.DependencyFailed, JobState.Waiting, JobState.Running, JobState.Held, JobState.Blocked,
        ];
        long first, staged;
        using (var store = Open())
        {
            first = store.AllocateIds(states.Length);
            for (var i = 0; i < states.Length; i++)
            {
                Insert(store, Job(first + i, states[i]));
            }

            store.SaveOutputIndex(first, new OutputIndex(0, 1, [1]));
            store.Commit();
        }

        using (var store = Open())
        {
            staged = store.AllocateIds(1);
            Insert(store, Job(staged, JobState.Completed)); // ended, staged only
            store.Update(Job(first + 4, JobState.Cancelled)); // ended by a staged change
            var all = Enumerable.Range(0, states.Length).Select(i => first + i).Append(staged).Append(9_999).ToList();
            Assert.Equal([first, first + 1, first + 2, first + 3, first + 4, staged], store.Remove(all).Order());
            Assert.Null(store.Get(first));
            Assert.Null(store.GetSpec(first));
            Assert.Null(store.Get(staged));
            Assert.Equal([first + 5, first + 6, first + 7], Ids(store.Query(null, null)));
            Assert.Empty(store.Remove([first + 5, first + 6, first + 7]));
        }

        using var restarted = Open();
        Assert.Equal([first + 5, first + 6, first + 7], Ids(restarted.Query(null, null)));
        Assert.Null(restarted.Get(first));
        Assert.Null(restarted.GetOutputIndex(first));
        Assert.Empty(restarted.CountEnded());
        Assert.Equal(staged + 1, restarted.NextJobId);
    }

    // --- output index, counters, settings, batches --------------------------------------------------------------------

    [SkippableFact]
    public void AnOutputIndex_SurvivesARestart_WithEveryField_AndALaterOneReplacesIt()
    {
        var index = new OutputIndex(10, 5, [2, 1, 2], Bytes: 300, Attempt: 2, AttemptLines: 3, Records: new OutputIndex(0, 2, [2], Bytes: 40),
            Path: "/var/goq/out.00001", WorkerWrites: 2, Breaks: [7, 19]);
        long id;
        using (var store = Open())
        {
            id = store.AllocateIds(2);
            Insert(store, Job(id));
            store.SaveOutputIndex(id, index); // in the commit that stores the job itself
            Insert(store, Job(id + 1));
            store.Commit();
        }

        using (var store = Open())
        {
            Assert.Equal(Json(index), Json(store.GetOutputIndex(id)!));
            Assert.Null(store.GetOutputIndex(id + 1));
            store.Update(Job(id, JobState.Running)); // a change of the job's record keeps its output index
            store.Commit();
        }

        var later = new OutputIndex(10, 9, [2, 1, 6], Bytes: 512, Attempt: 3);
        using (var store = Open())
        {
            Assert.Equal(Json(index), Json(store.GetOutputIndex(id)!));
            store.SaveOutputIndex(id, later);
            Assert.Equal(Json(later), Json(store.GetOutputIndex(id)!));
            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal(Json(later), Json(restarted.GetOutputIndex(id)!));
        Assert.Equal(JobState.Running, restarted.Get(id)!.State);
    }

    [SkippableFact]
    public void CountersQueueLimitsAndUsers_SurviveRestarts()
    {
        var ann = new GoqUser { Name = "ann", Role = GoqRole.Operator, KeyId = "a1b2c3", Created = T0, LastSeen = T0.AddHours(1) };
        var bob = new GoqUser { Name = "bob", Role = GoqRole.User, KeyId = "d4e5f6", Created = T0.AddDays(1), Revoked = T0.AddDays(2) };
        using (var store = Open())
        {
            var id = store.AllocateIds(1);
            Insert(store, Job(id, JobState.Completed)); // counters change with the jobs they count
            store.Count(StoreCounter.FinishedJobs);
            store.Count(StoreCounter.FinishedJobs);
            store.Count(StoreCounter.CancelledJobs);
            for (var i = 0; i < 3; i++)
            {
                store.Count(StoreCounter.DeadWorkerResubmits);
            }

            store.SetQueueLimit("gpu", 3);
            store.SetQueueLimit("old", 7);
            store.Counters.SaveUser(ann);
            store.Counters.SaveUser(bob);
            store.Commit();
            Assert.Equal(2, store.Counters.FinishedJobs);

            store.SetQueueLimit("old", 0); // a cap taken off is kept as none
            store.SetQueueLimit("gpu", 5);
            store.Commit(); // settings alone
            store.Counters.SaveUser(new GoqUser { Name = "ann", Role = GoqRole.Operator, KeyId = "a1b2c3", Created = T0, LastSeen = T0.AddHours(5) });
            store.Commit(); // a user seen again, alone
        }

        using (var store = Open())
        {
            Assert.Equal((2L, 1L, 3L), (store.Counters.FinishedJobs, store.Counters.CancelledJobs, store.Counters.DeadWorkerResubmits));
            Assert.Equal(new Dictionary<string, int> { ["gpu"] = 5, ["old"] = 0 }, store.Counters.QueueLimits);
            var users = store.Counters.LoadUsers().OrderBy(u => u.Name, StringComparer.Ordinal).ToList();
            Assert.Equal(2, users.Count);
            Assert.Equal(("ann", GoqRole.Operator, "a1b2c3", T0, T0.AddHours(5), (DateTimeOffset?)null),
                (users[0].Name, users[0].Role, users[0].KeyId, users[0].Created, users[0].LastSeen, users[0].Revoked));
            Assert.Equal(("bob", GoqRole.User, "d4e5f6", T0.AddDays(1), (DateTimeOffset?)null, T0.AddDays(2)),
                (users[1].Name, users[1].Role, users[1].KeyId, users[1].Created, users[1].LastSeen, users[1].Revoked));
            Assert.False(store.HasChanges);

            // Counted on from what is stored.
            var id = store.AllocateIds(1);
            Insert(store, Job(id, JobState.Cancelled));
            store.Count(StoreCounter.CancelledJobs);
            store.Count(StoreCounter.FinishedJobs);
            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal((3L, 2L, 3L), (restarted.Counters.FinishedJobs, restarted.Counters.CancelledJobs, restarted.Counters.DeadWorkerResubmits));
        Assert.Equal(2, restarted.Counters.LoadUsers().Count);
    }

    [SkippableFact]
    public void ABatchId_IsFoundAfterARestart_ButNotOneOlderThanTheStoreRemembers()
    {
        long first;
        using (var store = Open())
        {
            first = store.AllocateIds(3);
            for (var i = 0; i < 3; i++)
            {
                Insert(store, Job(first + i));
            }

            store.RecordBatch("batch-a", first, 2, DateTimeOffset.UtcNow);
            store.RecordBatch("batch-b", first + 2, 1, DateTimeOffset.UtcNow);
            store.RecordBatch("batch-old", first, 1, DateTimeOffset.UtcNow.AddDays(-3));
            Assert.Equal((first, 1), store.FindBatch("batch-old")); // remembered until the store is opened again
            store.Commit();
        }

        using var restarted = Open();
        Assert.Equal((first, 2), restarted.FindBatch("batch-a"));
        Assert.Equal((first + 2, 1), restarted.FindBatch("batch-b"));
        Assert.Null(restarted.FindBatch("batch-old"));
        Assert.Null(restarted.FindBatch("BATCH-A")); // ids are exact
        Assert.Null(restarted.FindBatch("batch-c"));
    }

    // --- the reader ------------------------------------------------------------------------------------------------

    [SkippableFact]
    public void AReader_SeesCommittedRowsOnly_NeverAStagedChange()
    {
        using var store = Open();
        var first = store.AllocateIds(3);
        for (var i = 0; i < 3; i++)
        {
            Insert(store, Job(first + i));
        }

        store.Commit();
        using var reader = OpenReader(store);
        store.Update(Job(first + 1, JobState.Completed));
        var staged = store.AllocateIds(1);
        Insert(store, Job(staged));

        Assert.Equal([(first, JobState.Waiting), (first + 1, JobState.Waiting), (first + 2, JobState.Waiting)],
            reader.Query(null, null, 0, int.MaxValue, null).Select(j => (j.Id, j.State)));
        Assert.Empty(reader.Query(null, [JobState.Completed], 0, int.MaxValue, null));
        Assert.Equal([first + 2, first + 1, first], reader.Newest(null, long.MaxValue, 10, null).Select(j => j.Id));
        Assert.Empty(reader.CountEnded());

        store.Commit();
        Assert.Equal([(first, JobState.Waiting), (first + 1, JobState.Completed), (first + 2, JobState.Waiting), (staged, JobState.Waiting)],
            reader.Query(null, null, 0, int.MaxValue, null).Select(j => (j.Id, j.State)));
        Assert.Equal([(JobSpec.DefaultQueue, JobState.Completed, 1L)], reader.CountEnded());
    }

    [SkippableFact]
    public void AReader_PagesInIdOrder_AndGivesTheNewestFirst_WithinItsBounds()
    {
        long f;
        using (var store = Open())
        {
            f = store.AllocateIds(10);
            for (var i = 0; i < 10; i++)
            {
                Insert(store, Job(f + i, i % 3 == 0 ? JobState.Completed : JobState.Waiting, j => j.Queue = i % 2 == 0 ? "gpu" : JobSpec.DefaultQueue));
            }

            store.Commit();
        }

        // Jobs f..f+9: Completed at f, f+3, f+6, f+9; queue gpu at even offsets.
        using var restarted = Open();
        using var reader = OpenReader(restarted);
        Assert.Equal([f + 4, f + 5], reader.Query(null, [JobState.Waiting], f + 2, 2, null).Select(j => j.Id));
        Assert.Equal([f + 7, f + 8], reader.Query(null, [JobState.Waiting], f + 5, 2, null).Select(j => j.Id));
        Assert.Equal([(f + 3, JobState.Completed), (f + 6, JobState.Completed), (f + 9, JobState.Completed)],
            reader.Query(null, [JobState.Completed], f, 10, null).Select(j => (j.Id, j.State)));
        Assert.Equal([f + 1, f + 6], reader.Query([f + 6, f + 1, 9_999], null, 0, 10, null).Select(j => j.Id));
        Assert.Equal([f, f + 2, f + 4], reader.Query(null, null, 0, 3, new JobFilter { Queues = ["gpu"] }).Select(j => j.Id));

        Assert.Equal([f + 9, f + 8, f + 7], reader.Newest(null, long.MaxValue, 3, null).Select(j => j.Id));
        Assert.Equal([f + 6, f + 5, f + 4], reader.Newest(null, f + 7, 3, null).Select(j => j.Id)); // beforeId excluded
        Assert.Equal([f + 4, f + 3], reader.Newest(null, f + 5, 10, null, afterId: f + 2).Select(j => j.Id)); // afterId excluded
        Assert.Equal([f + 8, f + 6], reader.Newest(null, long.MaxValue, 2, new JobFilter { Queues = ["gpu"] }).Select(j => j.Id));
        var newest = reader.Newest([JobState.Completed], f + 9, 2, null);
        Assert.Equal([f + 6, f + 3], newest.Select(j => j.Id));
        Assert.All(newest, j => Assert.Equal(($"echo {j.Id}", JobState.Completed, 0), (j.Command, j.State, j.ExitCode!.Value))); // whole
    }

    [SkippableFact]
    public void AReader_CountsEndedJobs_InTheSnapshotItPinned()
    {
        using var store = Open();
        var first = store.AllocateIds(3);
        Insert(store, Job(first, JobState.Completed));
        Insert(store, Job(first + 1, JobState.Failed, j => j.Queue = "gpu"));
        Insert(store, Job(first + 2, JobState.Running, j => j.Queue = "gpu"));
        store.Commit();

        using var reader = OpenReader(store);
        reader.PinSnapshot();
        store.Update(Job(first + 2, JobState.Completed, j => j.Queue = "gpu")); // ends after the pin
        Insert(store, Job(store.AllocateIds(1), JobState.Cancelled));
        store.Commit();
        (string, JobState, long)[] pinned = [(JobSpec.DefaultQueue, JobState.Completed, 1), ("gpu", JobState.Failed, 1)];
        Assert.Equal(pinned, Sorted(reader.CountEnded()));

        // The pin ended with that count: now the last commit.
        Assert.Equal([(JobSpec.DefaultQueue, JobState.Cancelled, 1), (JobSpec.DefaultQueue, JobState.Completed, 1), ("gpu", JobState.Completed, 1), ("gpu", JobState.Failed, 1)],
            Sorted(reader.CountEnded()));
        Assert.Equal(Sorted(store.CountEnded()), Sorted(reader.CountEnded()));
    }

    // --- helpers -----------------------------------------------------------------------------------------------------

    /// <summary>A job as the server would store it: its state's times and worker filled in.</summary>
    protected static JobInfo Job(long id, JobState state = JobState.Waiting, Action<JobInfo>? set = null)
    {
        var job = new JobInfo
        {
            Id = id, State = state, Kind = JobKind.Shell, Command = $"echo {id}", WorkingDirectory = "/home/ann/work", SubmittedAt = T0, SubmittedBy = "ann@host", Owner = "ann",
        };
        if (state is JobState.Running || state.IsTerminal())
        {
            (job.StartedAt, job.WorkerHost, job.WorkerId, job.Attempts) = (T0.AddSeconds(1), "node1", "w1", 1);
        }

        if (state.IsTerminal())
        {
            job.FinishedAt = T0.AddMinutes(1);
            job.ExitCode = state == JobState.Completed ? 0 : 1;
        }

        job.Hold = state == JobState.Held;
        set?.Invoke(job);
        return job;
    }

    /// <summary>The spec <paramref name="job"/> was submitted with, with a captured environment (<see cref="Env"/> unless given).</summary>
    protected static JobSpec SpecOf(JobInfo job, IReadOnlyDictionary<string, string>? env = null) => new()
    {
        Name = job.Name, Kind = job.Kind, Command = job.Command, WorkingDirectory = job.WorkingDirectory, CapturedEnvironment = env ?? Env, Queue = job.Queue,
        SlotCount = job.SlotCount, Require = job.Require, Priority = job.Priority, Hold = job.Hold, NotBefore = job.NotBefore, DependsOn = job.DependsOn,
        DependencyMode = job.DependencyMode, SubmittedBy = job.SubmittedBy, Owner = job.Owner,
    };

    protected static void Insert(IJobStore store, JobInfo job) => store.Insert(job, SpecOf(job));

    protected static long[] Ids(IEnumerable<JobInfo> jobs) => [.. jobs.Select(j => j.Id)];

    /// <summary>The store's reader, or a skip where the store has none.</summary>
    private static IJobReader OpenReader(IJobStore store)
    {
        var reader = store.OpenReader();
        Skip.If(reader is null, "this store has no reader of its own");
        return reader!;
    }

    /// <summary>Every page of a listing, read as Get-GoqJob reads them: each after the last id of the one before.</summary>
    private static List<long[]> Pages(IJobStore store, IReadOnlyCollection<JobState>? states, int limit)
    {
        var pages = new List<long[]>();
        var after = 0L;
        while (Ids(store.Query(null, states, after, limit)) is { Length: > 0 } page)
        {
            Assert.True(page.Length <= limit, $"a page of {page.Length} jobs past a limit of {limit}");
            pages.Add(page);
            after = page[^1];
        }

        return pages;
    }

    private static (string, JobState, long)[] Sorted(IEnumerable<(string Queue, JobState State, long Count)> counts) =>
        [.. counts.OrderBy(c => c.Queue, StringComparer.Ordinal).ThenBy(c => c.State.ToString(), StringComparer.Ordinal)];

    private static (int, string, int, string) Described(WaitingPlace place) => (place.Priority, place.Queue, place.SlotCount, string.Join(',', place.Require));

    private static string Json(OutputIndex index) => JsonSerializer.Serialize(index, GoqJsonContext.Default.OutputIndex);
}
