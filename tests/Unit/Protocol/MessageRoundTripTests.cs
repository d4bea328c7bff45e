using System.Text;
using Goq.Errors;
using Goq.Protocol;

namespace Goq.Tests.Protocol;

public sealed class MessageRoundTripTests
{
    private static readonly JobSpec Spec = new()
    {
        Name = "n",
        Kind = JobKind.Exec,
        Command = "/bin/echo",
        ArgumentList = ["a b", "it's", ""],
        WorkingDirectory = "/tmp",
        CapturedEnvironment = new Dictionary<string, string> { ["A"] = "1" },
        Environment = new Dictionary<string, string> { ["B"] = "2" },
        SubmittedBy = "me@host",
        TimeoutSec = 60,
        MaxAttempts = 5,
    };

    private static readonly JobInfo Job = new()
    {
        Id = 7,
        Name = "n",
        State = JobState.Failed,
        Kind = JobKind.Shell,
        Command = "exit 3",
        ExitCode = 3,
        Reason = "exit code 3",
        SubmittedAt = DateTimeOffset.UnixEpoch,
        StartedAt = DateTimeOffset.UnixEpoch.AddSeconds(1),
        FinishedAt = DateTimeOffset.UnixEpoch.AddSeconds(2),
        WorkerHost = "h",
        WorkerId = "w",
        Pid = 42,
        Attempts = 1,
        OutputPath = "/tmp/o/out.00007",
        SubmittedBy = "me@host",
    };

    /// <summary>One instance of every message kind; a new kind must be added here (checked below).</summary>
    public static TheoryData<GoqMessage> AllMessages() => new()
    {
        new SubmitJobs([Spec]),
        new SubmitJobs([Spec with { CapturedEnvironment = null }], new Dictionary<string, string> { ["S"] = "1" }),
        new SubmitJobsReply([Job]),
        new GetJobs([1, 2], [JobState.Waiting]),
        new GetJobs(null, null),
        new JobsReply([Job], [9]),
        new GetServerStatus(),
        new GetServerStatus(CountStates: true),
        new ServerStatusReply(new ServerStatus { Endpoint = "tcp://x:1", NextJobId = 5, WaitingWorkers = 10 }),
        new GetWorkers(),
        new WorkersReply([new WorkerInfo { Id = "w", Host = "h", Slots = 2, RunningJobs = [1] }]),
        new WatchJobs([1, 2]),
        new WatchReply([Job], [3]),
        new UnwatchJobs(5),
        new JobFinishedNotice([Job]),
        new ReadOutput(7, 10, 100),
        new ReadOutput(7, 10, 100, 4096),
        new ReadOutput(7, 0, 100, -1, Records: true),
        new GetOutputMap(7, Records: true),
        new OutputReply(7, [new OutputLine(OutputStream.Record, "o.<S>x</S>")], 1, true, JobState.Completed, 20, Records: true, WorkerHost: "h"),
        new OutputMapReply(7, "/w/o/out.00007.records", 0, 12, 1, [1], "AB", "CD", true, JobState.Completed, Records: true, WorkerHost: "h"),
        new SubmitJobs([Spec with { Kind = JobKind.ScriptBlock, Command = "param($a) $a", ScriptData = "<Objs/>", SerializationDepth = 3 }]),
        new OutputReply(7, [new OutputLine(OutputStream.Stderr, "e"), new OutputLine(OutputStream.Stdout, "o")], 12, true, JobState.Completed),
        new OutputReply(7, [new OutputLine(OutputStream.Stdout, "o")], 13, false, JobState.Running, 4100),
        new GetOutputMap(7),
        new OutputMapReply(7, "/w/o/out.00007", 0, 8, 2, [1, 1], "AB", "CD", true, JobState.Completed),
        new OutputMapReply(7, "/w/o/out.00007", 0, 8, 2, [1, 1], "AB", "CD", true, JobState.Completed, Breaks: [3]),
        new ReadOutputBytes(7, 4096),
        new OutputBytesReply(7, [0x61, 0xFF, 0x00, 0x0D, 0x0A], 4101, false, JobState.Running),
        new GetJobs([1, 2], [JobState.Waiting], 1000, 50),
        new GetJobs(null, null, 0, 0, new JobFilter { Since = DateTimeOffset.UnixEpoch, SubmittedBy = "ann", Queues = ["gpu"] }),
        new RestartJobs([1, 2], IncludeDependents: true),
        new JobsReply([Job], [], 1000),
        new SubmitJobs([Spec], null, "batch-1"),
        new RelayHello(4242, 123456),
        new ShutdownServer(),
        new Ack(),
        new ErrorReply(GoqErrorIds.JobNotFound, "no job"),
        new ErrorReply(GoqErrorIds.JobNotFound, "no job", GoqErrorKind.NotFound),
        new WorkerHello("w", "h", 1, 2, [new RunningJobRef(1, 1)], "0.1.0", false),
        new WorkerHello("w", "h", 1, 2, [new RunningJobRef(1, 1)], "0.1.0", false, "epoch", 5, Prefetch: 2),
        new WorkerHello("w", "h", 1, 2, [], "0.1.0", false, Queues: ["gpu", "default"], Labels: ["gpu"]),
        new JobReturned("w", 7, 1),
        new SetJobs([1, 2], 5),
        new SetJobs([1], null, Hold: true),
        new SetJobsReply([Job], [Job], [3]),
        new GetQueues(),
        new SetQueue("gpu", 4),
        new QueuesReply([new QueueInfo { Name = "gpu", WaitingJobs = 3, RunningJobs = 4, ThrottleLimit = 4, Workers = 1, Slots = 8 }]),
        new GrantUser("alice", Goq.Identity.GoqRole.Operator, NewKey: true),
        new UserGrantedReply(new Goq.Identity.GoqUser { Name = "alice", Role = Goq.Identity.GoqRole.Operator, KeyId = "0011223344556677", Created = DateTimeOffset.UnixEpoch },
            "goq-user-key-1 alice 0011223344556677 " + new string('a', 64) + "\n"),
        new GetUsers(),
        new SetUser("bob", Goq.Identity.GoqRole.Admin),
        new RevokeUser("bob"),
        new UsersReply([new Goq.Identity.GoqUser { Name = "bob", Role = Goq.Identity.GoqRole.User, KeyId = "8899aabbccddeeff", Created = DateTimeOffset.UnixEpoch,
            LastSeen = DateTimeOffset.UnixEpoch.AddDays(1), Revoked = DateTimeOffset.UnixEpoch.AddDays(2) }]),
        new CancelJobsReply([], [], [7], [new AccessRefusal(8, "access denied: bob (User) may not stop job 8, owned by alice")]),
        new WorkerHelloReply(5000),
        new WorkerBye("w"),
        new DispatchJob(7, 1, Spec),
        new DispatchJob(8, 2, Spec, 3, "epoch", [new RunningJobRef(7, 1)]),
        new DispatchJob(9, 1, Spec, 4, "epoch", null, new OutputTarget("/w/o/out.00009", 120)),
        new JobStarted("w", 7, 1, 42, DateTimeOffset.UnixEpoch),
        new JobFinished("w", 7, 1, JobState.Failed, 1, "exit code 1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), 42, 3, Usage: new JobUsage(1500, 20, 4096)),
        new JobOutput("w", 7, 1, [new OutputLine(OutputStream.Stdout, "line")], 40),
        new JobOutput("w", 7, 1, [new OutputLine(OutputStream.Stdout, "a\r"), new OutputLine(OutputStream.Stderr, "x\uFFFDy", [0x78, 0xFF, 0x79], LineEnd.CrNewline),
            new OutputLine(OutputStream.Stdout, "piece", End: LineEnd.Cut), new OutputLine(OutputStream.Stdout, "open", End: LineEnd.Open)], 41),
        new JobFinished("w", 7, 1, JobState.Completed, 0, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), 42, 3),
        new ShutdownWorker(true),
        new ServerStopping("SIGTERM"),
        new StopWorkers(true, ["w"], false),
        new StopWorkersReply([new WorkerInfo { Id = "w" }], ["x"]),
        new JobFinishedAck(7, 1),
        new OutputAck(7, 1, 12),
        new JobOutputWritten("w", 7, 1, 40, [3, 1, 2], 12345),
        new JobOutputWritten("w", 7, 1, 40, [3, 1, 2], 12345, [12000, 12345]),
        new CancelJobs([1, 2]),
        new CancelJobsReply([Job], [Job], [3]),
        new CancelJob(7, 2),
        new RemoveJobs([1], [JobState.Completed]),
        new RemoveJobs(null, null),
        new RemoveJobsReply([1], [2], [3]),
        new DismissJobs([1, 2]),
        new DismissJobsReply([1], [2], [3]),
    };

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void EveryMessage_RoundTrips_ThroughTheOneContext(GoqMessage message)
    {
        var bytes = FrameCodec.Encode(message, rid: 11);
        var envelope = FrameCodec.Decode(bytes);

        Assert.Equal(Envelope.CurrentVersion, envelope.V);
        Assert.Equal(11, envelope.Rid);
        Assert.Equal(message.GetType(), envelope.Body.GetType());
        // Re-encoding the decoded body gives the same body JSON: nothing was lost or defaulted.
        Assert.Equal(BodyJson(bytes), BodyJson(FrameCodec.Encode(envelope.Body, 11)));
    }

    [Fact]
    public void EveryMessageKind_IsCoveredByTheRoundTripTest()
    {
        var covered = ((IEnumerable<object[]>)AllMessages()).Select(row => row[0].GetType()).ToHashSet();
        var kinds = typeof(GoqMessage).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(GoqMessage)) && !t.IsAbstract);
        Assert.All(kinds, kind => Assert.Contains(kind, covered));
    }

    [Fact]
    public void Envelope_CarriesTimestampAndFreshNonce()
    {
        var a = FrameCodec.Decode(FrameCodec.Encode(new Ack()));
        var b = FrameCodec.Decode(FrameCodec.Encode(new Ack()));
        Assert.NotEqual(a.Nonce, b.Nonce);
        Assert.InRange(a.SentAtMs, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("{\"V\":1,\"SentAtMs\":1,\"Nonce\":\"x\",\"Rid\":0,\"Body\":{\"k\":\"no-such-kind\"}}")]
    [InlineData("{\"V\":1,\"SentAtMs\":1,\"Nonce\":\"x\",\"Rid\":0,\"Body\":{\"k\":\"submit\",\"Jobs\":\"oops\"}}")]
    [InlineData("{\"V\":1,\"SentAtMs\":\"x\",\"Nonce\":\"x\",\"Rid\":0,\"Body\":{\"k\":\"ack\"}}")]
    [InlineData("[1,2,3]")]
    public void MalformedFrames_AreRejected_WithOneStableError(string json)
    {
        var ex = Assert.Throws<GoqException>(() => FrameCodec.Decode(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(GoqErrorIds.MalformedMessage, ex.ErrorId);
    }

    [Fact]
    public void OtherProtocolVersion_IsRejected()
    {
        var json = "{\"V\":99,\"SentAtMs\":1,\"Nonce\":\"x\",\"Rid\":0,\"Body\":{\"k\":\"ack\"}}";
        var ex = Assert.Throws<GoqException>(() => FrameCodec.Decode(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(GoqErrorIds.ProtocolVersionMismatch, ex.ErrorId);
    }

    [Fact]
    public void OversizedFrame_IsRejected()
    {
        var ex = Assert.Throws<GoqException>(() => FrameCodec.Decode(new byte[FrameCodec.MaxMessageBytes + 1]));
        Assert.Equal(GoqErrorIds.MalformedMessage, ex.ErrorId);
    }

    private static string BodyJson(byte[] frame)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(frame);
        return doc.RootElement.GetProperty("Body").GetRawText();
    }
}
