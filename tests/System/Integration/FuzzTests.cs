using Goq.Protocol;
using Goq.SystemTests.Support;
using Goq.Tests.Support;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;
using Xunit.Abstractions;

namespace Goq.SystemTests.Integration;

[Collection(RealProcessesCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Frames = 100_000;
    private const long Sentinel = 4_242_424_242;

    [Fact]
    public async Task HundredThousandHostileFrames_NeitherCrashNorStallTheServer_AndLoseNoJob()
    {
        // The default heartbeat: on a loaded 2-core host a 0.5 s heartbeat lets the flood itself make the real worker look dead.
        using var cluster = new Cluster(durable: true);
        cluster.AddWorker(slots: 2);
        var accepted = (await cluster.Client.SubmitAsync(Enumerable.Range(0, 20)
            .Select(_ => new JobSpec { Kind = JobKind.Shell, Command = "sleep 0.1", WorkingDirectory = cluster.Home.Path }).ToList())).Select(j => j.Id).ToList();

        var fuzzer = new Fuzzer(seed: 20261128, cluster.Credentials.Secret, accepted);
        var sockets = Enumerable.Range(0, 4)
            .Select(_ => RawMessages.Socket(cluster.Server.Endpoint, cluster.Credentials.ForPeers(), sendHighWatermark: 10_000)).ToList();
        try
        {
            for (var i = 0; i < Frames; i++)
            {
                Assert.True(sockets[i % sockets.Count].TrySendMultipartMessage(TimeSpan.FromSeconds(10), fuzzer.Next()), $"frame {i} could not be sent: the server stopped reading");
                if (i % 20_000 == 19_999)
                {
                    // Still serving (not stalled) and still accepting work while the flood goes on.
                    accepted.Add((await cluster.Client.SubmitAsync([new JobSpec { Kind = JobKind.Shell, Command = "true", WorkingDirectory = cluster.Home.Path }]))[0].Id);
                }

                foreach (var socket in sockets)
                {
                    var reply = new NetMQMessage();
                    while (socket.TryReceiveMultipartMessage(TimeSpan.Zero, ref reply))
                    {
                        reply = new NetMQMessage(); // drain what the server answered
                    }
                }
            }

            // A server answers each peer in order: once a sentinel request is answered, all before it were handled.
            var wire = new WireCodec(cluster.Credentials.Secret, TimeSpan.FromMinutes(3));
            foreach (var socket in sockets)
            {
                Assert.True(socket.TrySendMultipartMessage(TimeSpan.FromSeconds(10), wire.ToServer(new GetServerStatus(), rid: Sentinel)));
                var deadline = DateTime.UtcNow.AddSeconds(60);
                var answered = false;
                while (!answered && DateTime.UtcNow < deadline)
                {
                    var reply = new NetMQMessage();
                    if (socket.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(200), ref reply))
                    {
                        try
                        {
                            answered = wire.Open(reply, 0).Rid == Sentinel;
                        }
                        catch (Errors.GoqException)
                        {
                            // an answer to a fuzz frame: not ours to read
                        }
                    }
                }

                Assert.True(answered, "the server did not get through the fuzz frames within 60 s");
            }
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }

        var status = await cluster.Client.GetStatusAsync();
        var counts = $"bad signatures {status.DroppedBadSignatures}, malformed {status.DroppedMalformed}, replays {status.DroppedReplays}";
        output.WriteLine($"{Frames} frames: {counts}");
        Assert.True(status.DroppedBadSignatures > 1000, counts);
        Assert.True(status.DroppedMalformed > 10_000, counts);
        Assert.True(status.DroppedReplays > 1000, counts);

        // Every job accepted before and during the flood ends, and completes exactly once.
        var ended = new List<JobInfo>();
        Assert.True(await cluster.Client.WaitAsync(accepted, any: false, TimeSpan.FromSeconds(60), e => ended.Add(e.Job!)), "accepted jobs did not all end");
        Assert.All(ended, j => Assert.True(j.State == JobState.Completed, $"job {j.Id} ended {j.State} after {j.Attempts} attempts: {j.Reason}"));
        Assert.Equal(accepted.Order(), ended.Select(j => j.Id).Order());

        var after = await cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "echo after" });
        Assert.Equal(JobState.Completed, after.State);
    }
}
