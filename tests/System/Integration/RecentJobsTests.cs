using Goq.Client;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

public sealed class RecentJobsTests
{
    [Fact]
    public async Task Gives_every_active_job_and_the_most_recent_ended_ones()
    {
        using var cluster = new Cluster();
        cluster.AddWorker(slots: 2);
        var flag = cluster.Home.Combine("go");
        var quick = await cluster.Client.SubmitAsync(Enumerable.Range(0, 12)
            .Select(_ => new JobSpec { Kind = JobKind.Exec, Command = "/bin/true", WorkingDirectory = cluster.Home.Path }).ToList());
        foreach (var job in quick)
        {
            await cluster.WaitForAsync(job.Id);
        }

        var running = await cluster.Client.SubmitAsync(Enumerable.Range(0, 2)
            .Select(_ => new JobSpec { Kind = JobKind.Shell, Command = $"while [ ! -e '{flag}' ]; do sleep 0.05; done", WorkingDirectory = cluster.Home.Path }).ToList());
        try
        {
            var (active, ended) = await cluster.Client.GetActiveAndRecentAsync(recent: 5);

            Assert.Equal(running.Select(j => j.Id), active.Select(j => j.Id));
            Assert.Equal(quick.TakeLast(5).Select(j => j.Id), ended.Select(j => j.Id));
            var (_, none) = await cluster.Client.GetActiveAndRecentAsync(recent: 0);
            Assert.Empty(none);
            var (_, all) = await cluster.Client.GetActiveAndRecentAsync(recent: 100);
            Assert.Equal(quick.Select(j => j.Id), all.Select(j => j.Id));
        }
        finally
        {
            File.WriteAllText(flag, "");
        }
    }
}
