using Goq.Protocol;
using Goq.SimWorkers;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>
/// One server, a hundred simulated workers (the real protocol over real sockets, CURVE and MACs; see
/// <see cref="SimulatedFleet"/>): jobs spread over all of them, heartbeats keep them alive well past the time that
/// would declare a silent one dead, and one that hangs holding a job is declared dead and its job run elsewhere.
/// The bench runs the same harness with 1,000 workers and prints the rates.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class SimulatedWorkersTests : IDisposable
{
    private const int Workers = 100;
    private readonly Cluster _cluster = new(heartbeatMs: 500, durable: true); // dead after 3 heartbeats: 1.5 s
    private readonly SimulatedFleet _fleet;

    public SimulatedWorkersTests()
    {
        _fleet = new SimulatedFleet(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers(), heartbeatMs: 500);
    }

    private JobSpec Spec(string queue = JobSpec.DefaultQueue) =>
        new() { Kind = JobKind.Shell, Command = "true", WorkingDirectory = _cluster.Home.Path, Queue = queue };

    [Fact]
    public async Task AHundredWorkers_TakeJobsInTurn_StayAliveOnHeartbeats_AndAHungOneIsDeclaredDead()
    {
        _fleet.Add("sim", Workers);
        _fleet.Add("hung", 1, ["fragile"], diesWithFirstJob: true);
        await Wait.UntilAsync(() => _cluster.Client.GetWorkersAsync(), w => w.Count == Workers + 1, timeoutMs: 30_000, what: "every simulated worker counted by the server");

        // Dispatch: 2,000 jobs over the hundred, every end acknowledged after its commit.
        var jobs = (await _cluster.Client.SubmitAsync(Enumerable.Range(0, 2000).Select(_ => Spec()).ToList())).Select(j => j.Id).ToList();
        Assert.True(await _cluster.Client.WaitAsync(jobs, any: false, TimeSpan.FromSeconds(60), _ => { }), "the jobs did not all end");
        var ended = await _cluster.Client.GetJobsAsync(jobs, null);
        Assert.All(ended.Jobs, j => Assert.Equal(JobState.Completed, j.State));
        await Wait.UntilAsync(() => _fleet.Acks == 2000, timeoutMs: 30_000, what: "every job end acknowledged");
        var ran = _fleet.Snapshot().Where(w => w.Id.StartsWith("sim-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2000, ran.Sum(w => w.JobsRun));
        Assert.All(ran, w => Assert.True(w.JobsRun > 0, $"{w.Id} was never handed a job: workers with free slots take turns"));

        // Heartbeats: four periods' worth from every worker (2 s, past the 1.5 s that makes a silent worker dead), and
        // the server still counts all of them.
        var beats = _fleet.Heartbeats;
        await Wait.UntilAsync(() => _fleet.Heartbeats >= beats + 4 * (Workers + 1), timeoutMs: 30_000, what: "four heartbeats from every worker");
        var alive = await _cluster.Client.GetWorkersAsync();
        Assert.Equal(Workers + 1, alive.Count);

        // The hung worker takes the one job of its queue and goes silent: the server declares it dead, queues the job
        // again, and a worker that comes later runs it as its second attempt.
        var fragile = (await _cluster.Client.SubmitAsync([Spec("fragile")]))[0];
        await Wait.UntilAsync(() => _fleet.Snapshot().Single(w => w.Id == "hung-0").JobsRun == 1, what: "the hung worker handed its job");
        await Wait.UntilAsync(() => _cluster.Client.GetWorkersAsync(), w => w.All(x => x.Id != "hung-0"), timeoutMs: 30_000, what: "the hung worker declared dead");
        Assert.Equal(Workers, (await _cluster.Client.GetWorkersAsync()).Count); // and only that one
        var back = (await _cluster.Client.GetJobsAsync([fragile.Id], null)).Jobs.Single();
        Assert.Equal(JobState.Waiting, back.State);

        _fleet.Add("rescue", 1, ["fragile"]);
        var done = await _cluster.WaitForAsync(fragile.Id);
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal("rescue-0", done.WorkerId);
        Assert.Equal(2, done.Attempts);
        Assert.Equal(0, _fleet.Refused);
    }

    public void Dispose()
    {
        _fleet.Dispose();
        _cluster.Dispose();
    }
}
