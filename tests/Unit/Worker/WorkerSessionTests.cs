using Goq.Protocol;
using Goq.Worker;

namespace Goq.Tests.Worker;

/// <summary>
/// What a worker keeps of its conversation with the server (<see cref="WorkerSession"/>, shared by the worker and the
/// scale harness's simulated workers): the hello lists every job the worker holds, the dispatch numbers follow the
/// server's runs, and a job's end is sent again until the server acknowledges that very attempt.
/// </summary>
public sealed class WorkerSessionTests
{
    private static readonly JobSpec Spec = new() { Kind = JobKind.Shell, Command = "true", WorkingDirectory = "/tmp" };

    private static WorkerSession Session() => new("w1", "host-a", 4, oneShot: false, prefetch: 32, ["q1"], ["gpu"], "hostkey");

    private static JobFinished End(long jobId, int attempt, long? totalLines = 0) =>
        new("w1", jobId, attempt, JobState.Completed, 0, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 100, totalLines);

    private static IEnumerable<RunningJobRef> Refs(params (long JobId, int Attempt)[] jobs) => jobs.Select(j => new RunningJobRef(j.JobId, j.Attempt));

    [Fact]
    public void TheHello_SaysWhoTheWorkerIs_AndListsHeldJobs_ThenEndsNotAcknowledged_ThenEndsWaiting()
    {
        var session = Session();
        session.EndWaits(5, 1);
        session.Ended(End(3, 2));

        var hello = session.Hello(42, Refs((1, 1), (2, 1)));

        Assert.Equal(Refs((1, 1), (2, 1), (3, 2), (5, 1)), hello.Running);
        Assert.Equal(("w1", "host-a", 42, 4, GoqVersion.Current, false, 32, "hostkey"),
            (hello.WorkerId, hello.Host, hello.Pid, hello.Slots, hello.Version, hello.OneShot, hello.Prefetch, hello.HostKey));
        Assert.Equal(["q1"], hello.Queues!);
        Assert.Equal(["gpu"], hello.Labels!);
        Assert.Null(hello.Epoch); // no dispatch yet
        Assert.Equal(0, hello.LastDispatch);
        Assert.True(session.EndsWaiting);

        // Reported and acknowledged, the ends leave the hello; the held jobs are the caller's to list.
        session.EndReady(5, 1);
        Assert.False(session.EndsWaiting);
        session.Ended(End(5, 1));
        Assert.Equal(Refs((3, 2), (5, 1)), session.Hello(42, []).Running);
        session.Acknowledged(3, 2);
        session.Acknowledged(5, 1);
        Assert.Equal(Refs((1, 1)), session.Hello(42, Refs((1, 1))).Running);
        Assert.Equal(new WorkerBye("w1"), session.Bye());
    }

    [Fact]
    public void DispatchNumbers_KeepTheHighestOfTheServersRun_AndStartAgainWithANewRun()
    {
        var session = Session();
        Assert.Equal(Refs((7, 1)), session.Dispatched(new DispatchJob(8, 1, Spec, 3, "run-a", [new RunningJobRef(7, 1)])));
        Assert.Empty(session.Dispatched(new DispatchJob(9, 1, Spec, 2, "run-a"))); // overtaken by a later one: the highest stays
        Assert.Equal(("run-a", 3L), (session.Epoch, session.LastDispatch));
        var hello = session.Hello(1, []);
        Assert.Equal(("run-a", 3L), (hello.Epoch, hello.LastDispatch));

        session.Dispatched(new DispatchJob(10, 1, Spec, 1, "run-b"));
        Assert.Equal(("run-b", 1L), (session.Epoch, session.LastDispatch));

        // The answer to a hello: the run we know changes nothing; another run (a restart) starts the count again and
        // asks for a hello at once; an answer without a run says nothing.
        Assert.False(session.Answered(new WorkerHelloReply(1000, "run-b")));
        Assert.Equal(1, session.LastDispatch);
        Assert.False(session.Answered(new WorkerHelloReply(1000)));
        Assert.True(session.Answered(new WorkerHelloReply(1000, "run-c")));
        Assert.Equal(("run-c", 0L), (session.Epoch, session.LastDispatch));
        Assert.False(session.Answered(new WorkerHelloReply(1000, "run-c")));
    }

    [Fact]
    public void AnEnd_IsSentAgainUntilTheServerAcknowledgesThatAttempt()
    {
        var session = Session();
        var end = End(3, 2);
        Assert.Same(end, session.Ended(end)); // the report to send
        Assert.True(session.AwaitsAck(3, 2));
        Assert.True(session.HasUnacknowledgedEnds);

        // Every heartbeat sends it again while no acknowledgement came.
        Assert.Equal([end], session.UnacknowledgedEnds);
        Assert.Equal([end], session.UnacknowledgedEnds);

        // An acknowledgement of another attempt of the job (or of another job) leaves it waiting.
        Assert.False(session.Acknowledged(3, 1));
        Assert.False(session.Acknowledged(4, 2));
        Assert.Equal([end], session.UnacknowledgedEnds);
        Assert.True(session.AwaitsAcks);

        // One riding on a dispatch is the caller's to apply.
        var acks = session.Dispatched(new DispatchJob(9, 1, Spec, 1, "run-a", [new RunningJobRef(3, 2)]));
        Assert.Equal(Refs((3, 2)), acks);
        Assert.True(session.AwaitsAck(3, 2));
        Assert.True(session.Acknowledged(acks[0].JobId, acks[0].Attempt));

        Assert.False(session.AwaitsAck(3, 2));
        Assert.Empty(session.UnacknowledgedEnds);
        Assert.False(session.AwaitsAcks);
        Assert.False(session.Acknowledged(3, 2)); // a second acknowledgement of it finds nothing
    }

    [Fact]
    public void Ends_AreSentAgainInTheOrderFirstReported_AReportMadeAgainKeepingItsPlace()
    {
        var session = Session();
        session.Ended(End(1, 1));
        session.Ended(End(2, 1));
        session.Ended(End(3, 1));
        var counted = session.Ended(End(2, 1, totalLines: 12)); // its last line counted once its file synced

        Assert.Equal([End(1, 1), counted, End(3, 1)], session.UnacknowledgedEnds);
        Assert.Equal(Refs((1, 1), (2, 1), (3, 1)), session.Hello(1, []).Running);
    }

    [Fact]
    public void AnAdoptedEnd_IsSentWithoutItsLineCount_ApartFromTheWorkersOwn_UntilAcknowledged()
    {
        var session = Session();
        var found = End(6, 1, totalLines: 40) with { WorkerId = "dead-worker" };

        var report = session.Adopt(found);

        Assert.Equal(found with { TotalLines = null }, report); // its lines went with the dead worker
        Assert.Equal([report], session.AdoptedEnds);
        Assert.Empty(session.UnacknowledgedEnds);
        Assert.Empty(session.Hello(1, []).Running); // the dead worker's job, not ours
        Assert.False(session.HasUnacknowledgedEnds);
        Assert.True(session.AwaitsAcks);

        Assert.True(session.Acknowledged(6, 1));
        Assert.Empty(session.AdoptedEnds);
        Assert.False(session.AwaitsAcks);
    }
}
