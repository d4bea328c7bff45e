using Goq.Client;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>One watch for many jobs: each callback once, at its job's end, also for jobs added while a wait is on.</summary>
public sealed class JobEndWatcherTests
{
    [Fact]
    public async Task Each_job_is_reported_once_when_it_ends_including_jobs_added_during_a_wait_and_unknown_ones()
    {
        using var cluster = new Cluster();
        cluster.AddWorker(slots: 1);
        var flag = cluster.Home.Combine("go");
        var done = await cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "true", WorkingDirectory = "" });
        var waiting = (await cluster.Client.SubmitAsync([new JobSpec
        {
            Kind = JobKind.Shell,
            Command = $"while [ ! -e '{flag}' ]; do sleep 0.05; done",
            WorkingDirectory = cluster.Home.Path,
        }]))[0];
        var ends = new System.Collections.Concurrent.ConcurrentQueue<(long Id, JobState? State)>();
        var watcher = new JobEndWatcher(() => cluster.Client);

        watcher.Watch(done.Id, j => ends.Enqueue((done.Id, j?.State)));
        watcher.Watch(waiting.Id, j => ends.Enqueue((waiting.Id, j?.State)));
        await Wait.UntilAsync(() => ends.Count == 1, what: "the job that had ended already");
        watcher.Watch(999_999, j => ends.Enqueue((999_999, j?.State))); // added while the wait on the other is on
        await Wait.UntilAsync(() => ends.Count == 2, what: "the unknown job");
        Assert.Equal(1, watcher.Count);

        File.WriteAllText(flag, "");
        await Wait.UntilAsync(() => ends.Count == 3, what: "the running job to end");
        Assert.Equal(
            [(done.Id, JobState.Completed), (999_999, null), (waiting.Id, JobState.Completed)],
            ends.ToArray());
        Assert.Equal(0, watcher.Count);
    }

    [Fact]
    public async Task A_cursor_reads_a_running_jobs_output_as_it_comes_and_then_only_the_rest()
    {
        using var cluster = new Cluster();
        cluster.AddWorker(slots: 1);
        var flag = cluster.Home.Combine("go");
        var job = (await cluster.Client.SubmitAsync([new JobSpec
        {
            Kind = JobKind.Shell,
            Command = $"echo one; echo two; while [ ! -e '{flag}' ]; do sleep 0.05; done; echo three",
            WorkingDirectory = cluster.Home.Path,
        }]))[0];
        var cursor = new OutputCursor(job.Id, records: false);
        var lines = new List<string>();

        await Wait.UntilAsync(async () => await cursor.ReadNewAsync(cluster.Client, (l, _) => lines.Add(l.Text)), _ => lines.Count == 2, what: "the first two lines");
        Assert.False(cursor.Complete);
        File.WriteAllText(flag, "");
        await cluster.WaitForAsync(job.Id);
        await Wait.UntilAsync(async () => await cursor.ReadNewAsync(cluster.Client, (l, _) => lines.Add(l.Text)), _ => cursor.Complete, what: "the rest");

        Assert.Equal(["one", "two", "three"], lines);
    }
}
