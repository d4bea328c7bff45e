using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>A batch sent again with its id is answered with the jobs made the first time, across a restart too.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class IdempotentSubmitTests : IDisposable
{
    private readonly Cluster _cluster = new(durable: true);

    private List<JobSpec> Specs(int count) =>
        Enumerable.Range(0, count).Select(i => new JobSpec { Kind = JobKind.Shell, Command = $"echo {i}", WorkingDirectory = _cluster.Home.Path }).ToList();

    [Fact]
    public async Task ABatchSentTwice_IsQueuedOnce()
    {
        var first = await _cluster.Client.SubmitAsync(Specs(3), batchId: "batch-a");
        var again = await _cluster.Client.SubmitAsync(Specs(3), batchId: "batch-a");
        Assert.Equal(first.Select(j => j.Id), again.Select(j => j.Id));
        var other = await _cluster.Client.SubmitAsync(Specs(2), batchId: "batch-b");
        Assert.Equal(first[^1].Id + 1, other[0].Id);
        Assert.Equal(5, (await _cluster.Client.GetJobsAsync(null, null)).Jobs.Count);
    }

    [Fact]
    public async Task ABatchIdIsDurableWithItsJobs_AcrossARestart()
    {
        var first = await _cluster.Client.SubmitAsync(Specs(4), batchId: "survives");
        _cluster.RestartServer();
        var again = await _cluster.Client.SubmitAsync(Specs(4), batchId: "survives");
        Assert.Equal(first.Select(j => j.Id), again.Select(j => j.Id));
        Assert.Equal(4, (await _cluster.Client.GetJobsAsync(null, null)).Jobs.Count);
        Assert.Equal(first[^1].Id + 1, (await _cluster.Client.SubmitAsync(Specs(1)))[0].Id);
    }

    [Fact]
    public async Task AnEmptyBatchId_NamesNoBatch()
    {
        var first = await _cluster.Client.SubmitAsync(Specs(1), batchId: "");
        var second = await _cluster.Client.SubmitAsync(Specs(1), batchId: "");
        Assert.Equal(first[0].Id + 1, second[0].Id);
    }

    public void Dispose() => _cluster.Dispose();
}
