using System.Text;
using Goq.Configuration;
using Goq.Errors;
using Goq.Protocol;
using Goq.SystemTests.Support;
using Goq.Tests.Support;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.SystemTests.Integration;

/// <summary>Wrong credentials, replays, garbage: each is refused and counted, and the server keeps serving.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class HostileInputTests : IDisposable
{
    private readonly Cluster _cluster = new();

    private DealerSocket RawSocket() => RawMessages.Socket(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers());

    [Fact]
    public async Task GarbageFrames_SignedOrNot_AreCountedAndDropped_AndTheServerKeepsServing()
    {
        var secret = _cluster.Credentials.Secret;
        using (var raw = RawSocket())
        {
            var random = new Random(1);
            var signed = new List<byte[]>
            {
                Encoding.UTF8.GetBytes("not json"),
                Encoding.UTF8.GetBytes("{\"V\":1,\"SentAtMs\":1,\"Nonce\":\"x\",\"Rid\":1,\"Body\":{\"k\":\"nope\"}}"),
                Encoding.UTF8.GetBytes("{\"V\":1,\"SentAtMs\":1,\"Nonce\":\"x\",\"Rid\":1,\"Body\":{\"k\":\"submit\",\"Jobs\":null}}"),
                Encoding.UTF8.GetBytes("{}"),
            };
            foreach (var payload in signed)
            {
                raw.SendMultipartMessage(RawMessages.Signed(secret, payload));
            }

            raw.SendMultipartMessage(RawMessages.Of([], [], [], []));
            for (var i = 0; i < 200; i++)
            {
                var junk = new byte[random.Next(1, 2000)];
                random.NextBytes(junk);
                raw.SendMultipartMessage(RawMessages.Of(junk, []));
            }

            // Malformed: not JSON, an unknown kind, no body, four empty frames. The well-formed submit is stamped 1970.
            var status = await Wait.UntilAsync(() => _cluster.Client.GetStatusAsync(),
                s => s.DroppedMalformed + s.DroppedReplays + s.DroppedBadSignatures >= 205, what: "the garbage to be counted");
            Assert.Equal(4, status.DroppedMalformed);
            Assert.Equal(1, status.DroppedReplays);
            Assert.Equal(200, status.DroppedBadSignatures);
        }

        _cluster.AddWorker(slots: 1);
        var job = await _cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "echo still here" });
        Assert.Equal(JobState.Completed, job.State);
    }

    [Fact]
    public async Task ClientWithTheWrongSecret_IsRefusedWithASecurityError_AndCounted()
    {
        using var stranger = _cluster.NewClient(_cluster.Credentials.ForPeers().WithSecret(new byte[32]));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<GoqException>(() => stranger.SubmitAsync([new JobSpec { Kind = JobKind.Shell, Command = "echo pwned" }]));
        Assert.Equal(GoqErrorIds.CredentialsRejected, ex.ErrorId);
        Assert.Equal(GoqErrorKind.Security, ex.Kind);
        Assert.DoesNotContain(_cluster.Credentials.SecretText, ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(watch.Elapsed < stranger.RequestTimeout, $"refused after {watch.Elapsed}, not within the timeout");

        var status = await _cluster.Client.GetStatusAsync();
        Assert.True(status.DroppedBadSignatures >= 1);
        Assert.Equal(1, status.NextJobId); // nothing was accepted
    }

    [Fact]
    public async Task ClientWithTheWrongServerKey_TimesOutWithAClearConnectionError()
    {
        var otherServer = ClusterCredentials.Generate();
        using var stranger = _cluster.NewClient(otherServer.ForPeers().WithSecret(_cluster.Credentials.Secret), timeoutMs: 700);
        var ex = await Assert.ThrowsAsync<GoqException>(() => stranger.GetStatusAsync());
        Assert.Equal(GoqErrorIds.ServerUnreachable, ex.ErrorId);
        Assert.Equal(GoqErrorKind.Connection, ex.Kind);
        Assert.Contains("credentials", ex.Message);
    }

    [Fact]
    public async Task WorkerWithTheWrongSecret_GetsNoJob_AndExitsWithTheReason()
    {
        var stranger = _cluster.AddWorker(slots: 1, credentials: _cluster.Credentials.ForPeers().WithSecret(new byte[32]));
        var ex = await Assert.ThrowsAsync<GoqException>(() => stranger.Completion.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(GoqErrorIds.CredentialsRejected, ex.ErrorId);

        var status = await _cluster.Client.GetStatusAsync();
        Assert.Equal(0, status.Workers);
        Assert.True(status.DroppedBadSignatures >= 1);
    }

    [Fact]
    public async Task ResentMessage_IsDroppedAsAReplay_AndRunsOnce()
    {
        var wire = new WireCodec(_cluster.Credentials.Secret, _cluster.ReplayWindow);
        using var raw = RawSocket();
        var captured = wire.ToServer(new SubmitJobs([new JobSpec { Kind = JobKind.Shell, Command = "true", WorkingDirectory = _cluster.Home.Path }]), rid: 7);
        raw.SendMultipartMessage(captured);
        raw.SendMultipartMessage(captured);

        var status = await Wait.UntilAsync(() => _cluster.Client.GetStatusAsync(), s => s.DroppedReplays >= 1, what: "the replay to be counted");
        Assert.Equal(1, status.DroppedReplays);
        Assert.Equal(2, status.NextJobId); // one job, id 1
    }

    [Theory]
    [InlineData(-10)]
    [InlineData(+10)]
    public async Task MessageStampedOutsideTheWindow_IsDropped(int minutes)
    {
        var payload = JsonSerializerBytes(new Envelope(Envelope.CurrentVersion,
            DateTimeOffset.UtcNow.AddMinutes(minutes).ToUnixTimeMilliseconds(), "00112233445566778899aabb", 1, new GetServerStatus()));
        using var raw = RawSocket();
        raw.SendMultipartMessage(RawMessages.Signed(_cluster.Credentials.Secret, payload));

        var status = await Wait.UntilAsync(() => _cluster.Client.GetStatusAsync(), s => s.DroppedReplays >= 1, what: "the stale message to be counted");
        Assert.Equal(1, status.DroppedReplays);
        // Not served: the sender is told its clock is off (a signed reply, rate limited), nothing else.
        NetMQMessage? reply = null;
        Assert.True(raw.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref reply), "no answer to the stale request");
        var error = Assert.IsType<ErrorReply>(new WireCodec(_cluster.Credentials.Secret, _cluster.ReplayWindow).Open(reply!, 0).Body);
        Assert.Equal(GoqErrorIds.ClockSkew, error.ErrorId);
        Assert.Contains(minutes < 0 ? "behind" : "ahead of", error.Message);
    }

    [Fact]
    public async Task GarbageOnTheTcpPort_HalfHandshakes_AndAConnectionFlood_DoNotStopGoodClients()
    {
        var port = int.Parse(_cluster.Server.Endpoint[(_cluster.Server.Endpoint.LastIndexOf(':') + 1)..]);
        var random = new Random(7);
        byte[] greeting = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 0, .. "CURVE"u8, .. new byte[15], 0, .. new byte[31]];
        var sockets = new List<System.Net.Sockets.Socket>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
                var junk = new byte[random.Next(1, 4096)];
                random.NextBytes(junk);
                byte[] bytes = (i % 4) switch
                {
                    0 => junk,                                   // not ZMTP at all
                    1 => greeting[..random.Next(1, greeting.Length)], // a greeting cut short, then silence
                    2 => [.. greeting, .. junk],                 // a whole greeting, then a nonsense CURVE HELLO
                    _ => [],                                     // connected and idle
                };
                if (bytes.Length > 0)
                {
                    try
                    {
                        await socket.SendAsync(bytes);
                    }
                    catch (System.Net.Sockets.SocketException)
                    {
                        // the server already hung up on this one: fine
                    }
                }
            }

            // While all that is still open, a good client and worker are served as usual.
            _cluster.AddWorker(slots: 1);
            var job = await _cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "echo served" });
            Assert.Equal(JobState.Completed, job.State);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }

        using var fresh = _cluster.NewClient();
        Assert.Equal(1, (await fresh.GetStatusAsync()).Workers);
    }

    [Fact]
    public async Task OversizeMessage_IsRefusedAtTheSocket_AndTheServerKeepsServing()
    {
        var wire = new WireCodec(_cluster.Credentials.Secret, _cluster.ReplayWindow);
        using (var raw = RawSocket())
        {
            // A well-signed submit, over the socket's limit (FrameCodec.MaxMessageBytes plus framing) even deflated (random
            // text): ZeroMQ drops the connection without reading it, so it never becomes a job (nor reaches the decoder).
            var noise = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(FrameCodec.MaxMessageBytes * 3 / 2));
            var huge = new JobSpec { Kind = JobKind.Shell, Command = "echo " + noise, WorkingDirectory = _cluster.Home.Path };
            var sent = wire.ToServer(new SubmitJobs([huge]), rid: 1);
            Assert.True(sent[0].MessageSize > FrameCodec.MaxMessageBytes, $"{sent[0].MessageSize} bytes sent");
            raw.SendMultipartMessage(sent);
            NetMQMessage? reply = null;
            Assert.False(raw.TryReceiveMultipartMessage(TimeSpan.FromSeconds(1), ref reply), "the oversize submit was answered");
        }

        var status = await _cluster.Client.GetStatusAsync();
        Assert.Equal(1, status.NextJobId);
        Assert.Equal(0, status.DroppedMalformed + status.DroppedBadSignatures);

        using (var raw = RawSocket())
        {
            // One that deflates to some kB passes the socket; inflating it stops at a message's size: dropped as malformed.
            var huge = new JobSpec { Kind = JobKind.Shell, Command = "echo " + new string('x', FrameCodec.MaxMessageBytes + 4096), WorkingDirectory = _cluster.Home.Path };
            var sent = wire.ToServer(new SubmitJobs([huge]), rid: 2);
            Assert.True(sent[0].MessageSize < 256 * 1024, $"{sent[0].MessageSize} bytes sent");
            raw.SendMultipartMessage(sent);
            await Wait.UntilAsync(() => _cluster.Client.GetStatusAsync(), s => s.DroppedMalformed == 1, what: "the packed oversize submit to be dropped as malformed");
        }

        Assert.Equal(1, (await _cluster.Client.GetStatusAsync()).NextJobId);
        _cluster.AddWorker(slots: 1);
        Assert.Equal(JobState.Completed, (await _cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "true" })).State);
    }

    [Fact]
    public async Task ClientWhoseClockIsFarOff_IsToldSo_AtOnce()
    {
        // A client whose clock runs 10 minutes ahead: the server refuses its request and says why; the client finds the
        // answer stamped 10 minutes in its past, and fails at once with the cause rather than timing out.
        using var skewed = new Goq.Client.GoqClient(_cluster.Server.Endpoint, _cluster.Credentials.ForPeers(), 5000, clock: new SkewedClock(TimeSpan.FromMinutes(10)));
        var ex = await Assert.ThrowsAsync<GoqException>(() => skewed.GetStatusAsync());
        Assert.Equal(GoqErrorIds.ClockSkew, ex.ErrorId);
        Assert.Contains("clocks", ex.Message);
        Assert.False(skewed.IsUsable);
    }

    [Fact]
    public void MessageInAnotherProtocolVersion_IsAnswered_WithTheMismatch()
    {
        // A worker or client of another version is told so (rate limited, like the other refusals), rather than left
        // to time out or, for a worker, to idle unjoined forever.
        var payload = JsonSerializerBytes(new Envelope(Envelope.CurrentVersion + 1,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "00112233445566778899aabb", 1, new GetServerStatus()));
        using var raw = RawSocket();
        raw.SendMultipartMessage(RawMessages.Signed(_cluster.Credentials.Secret, payload));

        NetMQMessage? reply = null;
        Assert.True(raw.TryReceiveMultipartMessage(TimeSpan.FromSeconds(10), ref reply), "no answer to a message in another protocol version");
        var error = Assert.IsType<ErrorReply>(new WireCodec(_cluster.Credentials.Secret, _cluster.ReplayWindow).Open(reply!, 0).Body);
        Assert.Equal(GoqErrorIds.ProtocolVersionMismatch, error.ErrorId);
    }

    [Fact]
    public async Task WorkerWhoseHelloTheServerRefuses_Exits_WithTheReason()
    {
        // A worker that cannot join must not stay (a supervisor that retries would pile them up): here it announces
        // more slots than a server takes.
        var worker = _cluster.AddWorker(slots: global::Goq.Server.WorkerHelloValidator.MaxSlots + 1);
        var ex = await Assert.ThrowsAsync<GoqException>(() => worker.Completion.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(GoqErrorIds.WorkerStartFailed, ex.ErrorId);
        Assert.Contains("refused this worker", ex.Message);
        Assert.Equal(0, (await _cluster.Client.GetStatusAsync()).Workers);
    }

    [Fact]
    public async Task WorkerNotYetJoined_OutlivesErrorsThatAreNotRefusals_AndExitsOnARefusal()
    {
        // A ClockSkew for a stale message (a hello queued while the server was down, delivered after the replay window;
        // this reply opens, so the clocks agree) and a ServerError (a handler that threw) say nothing about whether this
        // worker may join: it stays and says hello again. A stand-in server on a real CURVE socket sends them.
        using var fake = new RouterSocket();
        fake.Options.Linger = TimeSpan.Zero;
        CurveSetup.AsServer(fake, _cluster.Credentials);
        var port = fake.BindRandomPort("tcp://127.0.0.1");
        var wire = new WireCodec(_cluster.Credentials.Secret, _cluster.ReplayWindow);
        using var worker = new Goq.Worker.GoqWorker(new Goq.Worker.GoqWorkerOptions
        {
            Endpoint = $"tcp://127.0.0.1:{port}", Credentials = _cluster.Credentials.ForPeers(), Slots = 1, HeartbeatMs = 200,
        });
        worker.Start();

        byte[] NextHello()
        {
            NetMQMessage? hello = null;
            Assert.True(fake.TryReceiveMultipartMessage(TimeSpan.FromSeconds(10), ref hello), "no hello from the worker");
            Assert.IsType<WorkerHello>(wire.Open(hello!, 1).Body);
            return hello![0].ToByteArray();
        }

        var identity = NextHello();
        fake.SendMultipartMessage(wire.ToPeer(identity, new ErrorReply(GoqErrorIds.ClockSkew, "a message stamped 200 s ago", GoqErrorKind.Security), 0));
        fake.SendMultipartMessage(wire.ToPeer(identity, new ErrorReply(GoqErrorIds.ServerError, "a handler threw"), 7));
        NextHello();
        NextHello(); // an exiting worker says goodbye, never hello: two hellos after the errors mean it read them and stayed
        Assert.False(worker.Completion.IsCompleted);

        fake.SendMultipartMessage(wire.ToPeer(identity, new ErrorReply(GoqErrorIds.WorkerStartFailed, "too many slots", GoqErrorKind.InvalidArgument), 0));
        var ex = await Assert.ThrowsAsync<GoqException>(() => worker.Completion.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(GoqErrorIds.WorkerStartFailed, ex.ErrorId);
    }

    [Fact]
    public async Task InvalidSubmit_IsRejectedWhole_WithAClearError()
    {
        var ex = await Assert.ThrowsAsync<GoqException>(() =>
            _cluster.Client.SubmitAsync([new JobSpec { Kind = JobKind.Shell, Command = "true" }, new JobSpec { Kind = JobKind.Shell, Command = " " }]));
        Assert.Equal(GoqErrorIds.InvalidJobSpec, ex.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(1, (await _cluster.Client.GetStatusAsync()).NextJobId);
    }

    [Fact]
    public async Task UnreachableServer_FailsWithConnectionError_WithinTheTimeout()
    {
        using var client = new Goq.Client.GoqClient("tcp://127.0.0.1:1", _cluster.Credentials.ForPeers(), 500);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<GoqException>(() => client.GetStatusAsync());
        Assert.Equal(GoqErrorIds.ServerUnreachable, ex.ErrorId);
        Assert.Equal(GoqErrorKind.Connection, ex.Kind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.False(client.IsUsable);
    }

    private static byte[] JsonSerializerBytes(Envelope envelope) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(envelope, GoqJsonContext.Default.Envelope);

    public void Dispose() => _cluster.Dispose();

    private sealed class SkewedClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
