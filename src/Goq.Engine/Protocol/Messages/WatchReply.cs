namespace Goq.Protocol;

/// <summary>Server → client: the watched jobs that have already ended, and the ids the server does not know.</summary>
public sealed record WatchReply(IReadOnlyList<JobInfo> Finished, IReadOnlyList<long> Unknown) : GoqMessage, IListReply
{
    public int ItemCount => Finished.Count + Unknown.Count;

    public (GoqMessage First, GoqMessage Second) Split() => ListHalves.Split(Finished, Unknown, (finished, unknown) => new WatchReply(finished, unknown));

    public GoqMessage Join(GoqMessage next) => next is WatchReply more
        ? new WatchReply(ListHalves.Join(Finished, more.Finished), ListHalves.Join(Unknown, more.Unknown))
        : next;
}
