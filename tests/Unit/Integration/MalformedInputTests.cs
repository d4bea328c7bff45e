using System.Text;
using Goq.Tests.Support;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.Tests.Integration;

[Collection(RealProcessesCollection.Name)]
public sealed class MalformedInputTests : IDisposable
{
    private readonly Cluster _cluster = new();

    [Fact]
    public async Task GarbageFrames_AreCountedAndDropped_AndTheServerKeepsServing()
    {
        using (var raw = new DealerSocket())
        {
            raw.Connect(_cluster.Server.Endpoint);
            var random = new Random(1);
            List<byte[][]> frames =
            [
                [Encoding.UTF8.GetBytes("not json"), []],
                [Encoding.UTF8.GetBytes("{\"V\":1,\"SentAtMs\":1,\"Nonce\":\"x\",\"Rid\":1,\"Body\":{\"k\":\"nope\"}}"), []],
                [Encoding.UTF8.GetBytes("{\"V\":1,\"SentAtMs\":1,\"Nonce\":\"x\",\"Rid\":1,\"Body\":{\"k\":\"submit\",\"Jobs\":null}}"), []],
                [Encoding.UTF8.GetBytes("{}")],
                [[], [], [], []],
            ];
            for (var i = 0; i < 200; i++)
            {
                var junk = new byte[random.Next(1, 2000)];
                random.NextBytes(junk);
                frames.Add([junk, []]);
            }

            foreach (var message in frames)
            {
                var msg = new NetMQMessage();
                foreach (var frame in message)
                {
                    msg.Append(frame);
                }

                raw.SendMultipartMessage(msg);
            }

            var status = await Wait.UntilAsync(() => _cluster.Client.GetStatusAsync(), s => s.DroppedMalformed >= frames.Count - 1, what: "the garbage to be counted");
            Assert.True(status.DroppedMalformed >= frames.Count - 1);
        }

        _cluster.AddWorker(slots: 1);
        var job = await _cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "echo still here" });
        Assert.Equal(JobState.Completed, job.State);
    }

    [Fact]
    public async Task InvalidSubmit_IsRejectedWhole_WithAClearError()
    {
        var ex = await Assert.ThrowsAsync<Errors.GoqException>(() =>
            _cluster.Client.SubmitAsync([new JobSpec { Kind = JobKind.Shell, Command = "true" }, new JobSpec { Kind = JobKind.Shell, Command = " " }]));
        Assert.Equal(Errors.GoqErrorIds.InvalidJobSpec, ex.ErrorId);
        Assert.Equal(Errors.GoqErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(1, (await _cluster.Client.GetStatusAsync()).NextJobId);
    }

    [Fact]
    public async Task UnreachableServer_FailsWithConnectionError_WithinTheTimeout()
    {
        using var client = new Goq.Client.GoqClient("tcp://127.0.0.1:1", 500);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<Errors.GoqException>(() => client.GetStatusAsync());
        Assert.Equal(Errors.GoqErrorIds.ServerUnreachable, ex.ErrorId);
        Assert.Equal(Errors.GoqErrorKind.Connection, ex.Kind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.False(client.IsUsable);
    }

    public void Dispose() => _cluster.Dispose();
}
