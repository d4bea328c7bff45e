using Goq.Protocol;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>
/// Get-GoqJob's paging over a real server with a SQLite store, whose pages are read off the loop thread: every row
/// exactly once, in id order, while jobs are submitted, run, made (array tasks) and removed under it.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class PagingTests : IDisposable
{
    private readonly Cluster _cluster = new(durable: true);

    private JobSpec Spec(string command, string queue = JobSpec.DefaultQueue) =>
        new() { Kind = JobKind.Shell, Command = command, WorkingDirectory = _cluster.Home.Path, Queue = queue };

    [Fact]
    public async Task EveryRowComesExactlyOnce_InIdOrder_WhileJobsAreAddedRemovedAndMade()
    {
        // Waiting jobs nobody serves, half of them then cancelled (ended, stored); and an array whose tasks a worker runs,
        // so tasks are made (moved from "not made yet" into the store) while the listing runs.
        var idle = (await _cluster.Client.SubmitAsync(Enumerable.Range(0, 1200).Select(_ => Spec("true", "nobody")).ToList())).Select(j => j.Id).ToList();
        var cancelled = idle.Where((_, i) => i % 2 == 0).ToList();
        await _cluster.Client.CancelAsync(cancelled);
        var array = (await _cluster.Client.SubmitAsync([Spec("true") with { ArrayIndex = [.. Enumerable.Range(0, 600)] }]))[0];
        var tasks = Enumerable.Range(1, 600).Select(i => array.Id + i).ToList(); // a task's id follows its array's
        _cluster.AddWorker(slots: 4);

        // Under the listing: new jobs, and removals of cancelled ones (the first 300 of them stay, so they must be listed).
        using var stop = new CancellationTokenSource();
        var removable = cancelled.Skip(300).ToList();
        var removed = new List<long>();
        var added = new List<long>();
        var churn = Task.Run(async () =>
        {
            using var client = _cluster.NewClient();
            for (var round = 0; !stop.IsCancellationRequested && round * 20 < removable.Count; round++)
            {
                added.AddRange((await client.SubmitAsync([Spec("true", "nobody"), Spec("true", "nobody")])).Select(j => j.Id));
                var some = removable.Skip(round * 20).Take(20).ToList();
                await client.RemoveAsync(some, null);
                lock (removed)
                {
                    removed.AddRange(some);
                }
            }
        });

        var listed = new List<long>();
        long? after = 0;
        while (after is { } from)
        {
            var page = await _cluster.Client.RequestAsync<JobsReply>(new GetJobs(null, null, from, Limit: 50));
            listed.AddRange(page.Jobs.Select(j => j.Id));
            after = page.NextAfterId;
        }

        stop.Cancel();
        await churn;

        Assert.Equal(listed.Distinct().Order(), listed); // exactly once each, ascending
        var stayed = idle.Except(removed).Concat(tasks).ToList();
        Assert.Empty(stayed.Except(listed)); // every job there from before the listing to its end was listed
        Assert.True(removed.Count > 0 && added.Count > 0, "the listing ran while jobs were removed and added");
        Assert.DoesNotContain(array.Id, listed); // an array's own record is not a row: its tasks are
    }

    [Fact]
    public async Task APageAskedRightAfterAChange_HoldsTheChange()
    {
        // Read your writes: a page is read after the commit of the turn that asked, so it sees every acknowledged change.
        for (var i = 0; i < 20; i++)
        {
            var job = (await _cluster.Client.SubmitAsync([Spec("true", "nobody")]))[0];
            Assert.Contains(job.Id, (await _cluster.Client.GetJobsPageAsync(null, [JobState.Waiting], job.Id - 1)).Jobs.Select(j => j.Id));
            await _cluster.Client.CancelAsync([job.Id]);
            var page = await _cluster.Client.GetJobsPageAsync([job.Id], null, 0);
            Assert.Equal(JobState.Cancelled, Assert.Single(page.Jobs).State);
        }
    }

    [Fact]
    public async Task ANameFilter_RunsInTheServer_WithPowerShellWildcards()
    {
        var specs = new[] { "build-1", "build-2", "Build-10", "test-1", "b[x]" }.Select(n => Spec("true", "nobody") with { Name = n }).ToList();
        await _cluster.Client.SubmitAsync([.. specs, Spec("true", "nobody")]);
        async Task<List<string?>> Names(params string[] patterns) =>
            [.. (await _cluster.Client.GetJobsPageAsync(null, null, 0, filter: new JobFilter { Names = patterns })).Jobs.Select(j => j.Name)];

        Assert.Equal(["build-1", "build-2", "Build-10"], await Names("build-*"));
        Assert.Equal(["build-1", "build-2"], await Names("BUILD-?"));
        Assert.Equal(["build-1", "test-1"], await Names("*-1"));
        Assert.Equal(["build-2"], await Names("build-[2-9]"));
        Assert.Equal(["b[x]"], await Names("b`[x`]"));
        Assert.Equal(["build-1", "test-1"], await Names("test-1", "build-1"));
        Assert.Empty(await Names("nothing*"));
    }

    public void Dispose() => _cluster.Dispose();
}
