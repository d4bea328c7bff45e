using Goq.Output;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>Output read straight from its file, when this host sees the server's very file, and never another one.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class LocalOutputTests : IDisposable
{
    private readonly Cluster _cluster = new();

    [Fact]
    public async Task TheFileIsReadHere_WithItsStreams_AndAnotherFileOfTheSameNameIsRefused()
    {
        _cluster.AddWorker(slots: 1);
        var job = await _cluster.RunAsync(new JobSpec
        {
            Kind = JobKind.Shell,
            Command = "for i in $(seq 1 5000); do echo out $i; if [ $((i % 1000)) -eq 0 ]; then echo err $i >&2; fi; done",
            WorkingDirectory = _cluster.Home.Path,
        });
        var viaServer = await _cluster.OutputAsync(job.Id);
        Assert.Equal(5005, viaServer.Count);

        var map = await _cluster.Client.GetOutputMapAsync(job.Id);
        Assert.True(map.Complete);
        var local = LocalOutputReader.Open(map);
        Assert.NotNull(local);
        var lines = local.Pages(700).SelectMany(p => p).ToList();
        Assert.Equal(viaServer, lines);
        Assert.Equal(5, lines.Count(l => l.Stream == OutputStream.Stderr));

        // The same name and size with other content (another host's file, a file replaced since): not this output.
        var bytes = await File.ReadAllBytesAsync(map.Path!);
        bytes[^2] = (byte)'X';
        await File.WriteAllBytesAsync(map.Path!, bytes);
        Assert.Null(LocalOutputReader.Open(map));
        Assert.Null(LocalOutputReader.Open(map with { Path = _cluster.Home.Combine("no-such-file") }));
    }

    public void Dispose() => _cluster.Dispose();
}
