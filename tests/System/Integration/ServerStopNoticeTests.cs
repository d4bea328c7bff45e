using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>A server that stops cleanly tells its workers; they keep their jobs and rejoin it when it is back.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class ServerStopNoticeTests : IDisposable
{
    private readonly Cluster _cluster = new(heartbeatMs: 300, durable: true);

    [Fact]
    public async Task AStoppingServer_TellsItsWorkers_WhoKeepTheirJobsAndRejoin()
    {
        _cluster.AddWorker(slots: 1);
        var job = (await _cluster.Client.SubmitAsync([new JobSpec { Kind = JobKind.Shell, Command = "sleep 1; echo kept", WorkingDirectory = _cluster.Home.Path }]))[0];
        await Wait.UntilAsync(() => _cluster.Client.GetJobsAsync([job.Id], null), r => r.Jobs[0].Pid is not null, what: "the job to start");

        _cluster.RestartServer();
        await Wait.UntilAsync(() => _cluster.LogLines.ToArray().Any(l => l.StartsWith("warning server.stopping", StringComparison.Ordinal) && l.Contains("(stopping); 1 running jobs go on", StringComparison.Ordinal)),
            what: "the worker to be told the server is stopping");
        Assert.Equal(JobState.Completed, (await _cluster.WaitForAsync(job.Id)).State);
    }

    public void Dispose() => _cluster.Dispose();
}
