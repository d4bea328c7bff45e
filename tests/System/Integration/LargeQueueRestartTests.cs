using Goq.SimWorkers;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>
/// A server restarted with a large queue (a small version of the bench's million): every waiting and held job comes
/// back, and the waiting ones are then handed out in exactly the order they would have been without the restart; and
/// jobs kept by place answer Get-GoqJob and Stop-GoqJob like the others.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class LargeQueueRestartTests : IDisposable
{
    private const int Jobs = 20_000;
    // Most of the queue is kept by place (see SchedulerOptions.WholeWaitingJobs), before the restart and after it.
    private readonly Cluster _cluster = new(durable: true, wholeWaitingJobs: 2000);

    private JobSpec Spec(int i) => new()
    {
        Kind = JobKind.Shell,
        Command = $"process --input part-{i:D6}.dat", // every command its own, as in real batches
        WorkingDirectory = _cluster.Home.Path,
        Queue = "later",
        Priority = i % 10 == 0 ? 5 : 0,
        Hold = i % 7 == 0,
    };

    [Fact]
    public async Task EveryJobComesBack_AndTheWaitingOnesRunInPriorityThenArrivalOrder()
    {
        var submitted = new List<JobInfo>();
        for (var from = 0; from < Jobs; from += 5000)
        {
            submitted.AddRange(await _cluster.Client.SubmitAsync(Enumerable.Range(from, 5000).Select(Spec).ToList()));
        }

        var cancelled = submitted.Where((_, i) => i % 1000 == 1).Select(j => j.Id).ToList();
        Assert.Equal(cancelled.Count, (await _cluster.Client.CancelAsync(cancelled)).Cancelled.Count);
        var before = await _cluster.Client.GetStatusAsync();
        var listed = await _cluster.Client.GetJobsAsync([submitted[^1].Id, submitted[^2].Id], null);
        Assert.Equal([submitted[^2].Command, submitted[^1].Command], listed.Jobs.Select(j => j.Command));
        Assert.Equal([submitted[^2].Hold ? JobState.Held : JobState.Waiting, submitted[^1].Hold ? JobState.Held : JobState.Waiting], listed.Jobs.Select(j => j.State));

        _cluster.RestartServer();
        var after = await _cluster.Client.GetStatusAsync();
        Assert.Equal(before.WaitingJobs, after.WaitingJobs);
        Assert.Equal(before.HeldJobs, after.HeldJobs);
        Assert.Equal(Jobs, after.NextJobId - 1);

        var waiting = submitted.Where((j, i) => !j.Hold && !cancelled.Contains(j.Id)).ToList();
        Assert.Equal(waiting.Count, after.WaitingJobs);
        var expected = waiting.OrderByDescending(j => j.Priority).ThenBy(j => j.Id).Select(j => j.Id).ToList();

        // One worker of one slot that takes nothing ahead: the order it is handed jobs is the queue's order.
        using var fleet = new SimulatedFleet(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers());
        fleet.Add("after-restart", 1, ["later"]);
        await Wait.UntilAsync(() => fleet.Jobs == waiting.Count, timeoutMs: 120_000, what: "every waiting job handed out");
        Assert.Equal(expected, fleet.RanBy("after-restart-0"));
        var held = (await _cluster.Client.GetStatusAsync()).HeldJobs;
        Assert.Equal(before.HeldJobs, held);
    }

    public void Dispose() => _cluster.Dispose();
}
