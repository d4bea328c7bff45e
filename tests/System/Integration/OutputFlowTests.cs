using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>A job's output flows as fast as the server acknowledges it, not at the pace of the worker's flush tick.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class OutputFlowTests : IDisposable
{
    private readonly Cluster _cluster = new();

    [Fact]
    public async Task ShortLinesBeyondTheBudget_AreSentWhenPending_NotAtTheFlushTick()
    {
        // A tick that never comes during the test: 400,000 short lines cost several times a job's output budget, so
        // the job only ends if its lines are sent as they pile up and the acknowledgements free the budget.
        _cluster.AddWorker(slots: 1, outputFlushMs: 600_000);
        var job = await _cluster.RunAsync(new JobSpec
        {
            Kind = JobKind.Shell,
            Command = "echo start >&2; seq 1 400000",
            WorkingDirectory = _cluster.Home.Path,
        });

        Assert.Equal(JobState.Completed, job.State);
        var expected = "start\n" + string.Concat(Enumerable.Range(1, 400_000).Select(i => $"{i}\n"));
        Assert.Equal(expected, await File.ReadAllTextAsync(job.OutputPath!));
        var map = await _cluster.Client.GetOutputMapAsync(job.Id);
        Assert.Equal(400_001, map.Lines);
        Assert.Equal([0, 1, 400_000], map.StderrRuns);
    }

    public void Dispose() => _cluster.Dispose();
}
