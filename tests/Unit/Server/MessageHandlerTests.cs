using Goq.Protocol;
using Goq.Server;

namespace Goq.Tests.Server;

/// <summary>
/// Every message kind a client or a worker may send has exactly one handler in the server, and every other kind is one
/// the server only sends: a new kind is either given a handler or said to be outbound here, never dropped unseen.
/// </summary>
public sealed class MessageHandlerTests
{
    /// <summary>Kinds the server (or a worker's relay, between its own processes) sends and never takes.</summary>
    private static readonly HashSet<Type> Outbound =
    [
        typeof(SubmitJobsReply), typeof(JobsReply), typeof(ServerStatusReply), typeof(WorkersReply), typeof(WatchReply),
        typeof(JobFinishedNotice), typeof(OutputReply), typeof(OutputMapReply), typeof(OutputBytesReply), typeof(Ack),
        typeof(ErrorReply), typeof(WorkerHelloReply), typeof(DispatchJob), typeof(ShutdownWorker), typeof(ServerStopping),
        typeof(StopWorkersReply), typeof(JobFinishedAck), typeof(OutputAck), typeof(CancelJobsReply), typeof(CancelJob),
        typeof(RemoveJobsReply), typeof(DismissJobsReply), typeof(RelayHello), typeof(SetJobsReply), typeof(QueuesReply), typeof(UserGrantedReply), typeof(UsersReply),
    ];

    private static IEnumerable<Type> Kinds() =>
        typeof(GoqMessage).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(GoqMessage)) && !t.IsAbstract);

    [Fact]
    public void EveryKindAClientOrAWorkerMaySend_HasItsHandler()
    {
        var inbound = Kinds().Where(t => t.IsSubclassOf(typeof(ClientRequest)) || t.IsSubclassOf(typeof(WorkerReport))).ToList();
        Assert.NotEmpty(inbound);
        Assert.All(inbound, kind => Assert.True(GoqServer.Handlers.ContainsKey(kind), $"{kind.Name} has no handler in GoqServer.Handlers"));
    }

    [Fact]
    public void EveryHandler_IsForAKindAClientOrAWorkerMaySend()
    {
        Assert.All(GoqServer.Handlers.Keys, kind => Assert.True(
            !kind.IsAbstract && (kind.IsSubclassOf(typeof(ClientRequest)) || kind.IsSubclassOf(typeof(WorkerReport))),
            $"{kind.Name} is handled but is neither a ClientRequest nor a WorkerReport"));
    }

    [Fact]
    public void EveryOtherKind_IsOneTheServerOnlySends()
    {
        var unclassified = Kinds()
            .Where(t => !t.IsSubclassOf(typeof(ClientRequest)) && !t.IsSubclassOf(typeof(WorkerReport)) && !Outbound.Contains(t))
            .Select(t => t.Name).ToList();
        Assert.True(unclassified.Count == 0,
            $"derive each from ClientRequest or WorkerReport (and give it a handler), or list it as outbound here: {string.Join(", ", unclassified)}");
        Assert.All(Outbound, kind => Assert.False(GoqServer.Handlers.ContainsKey(kind), $"{kind.Name} is listed as outbound but has a handler"));
    }
}
