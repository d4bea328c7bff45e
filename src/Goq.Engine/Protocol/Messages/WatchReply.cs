namespace Goq.Protocol;

/// <summary>Server → client: the watched jobs that have already ended, and the ids the server does not know.</summary>
public sealed record WatchReply(IReadOnlyList<JobInfo> Finished, IReadOnlyList<long> Unknown) : GoqMessage, IListReply
{
    public int ItemCount => Finished.Count + Unknown.Count;

    public (GoqMessage First, GoqMessage Second) Split()
    {
        if (Finished.Count > 1)
        {
            var (a, b) = ListHalves.Halve(Finished);
            return (this with { Finished = a }, this with { Finished = b, Unknown = [] });
        }

        var (x, y) = ListHalves.Halve(Unknown);
        return (this with { Unknown = x }, this with { Finished = [], Unknown = y });
    }

    public GoqMessage Join(GoqMessage next) => next is WatchReply more
        ? new WatchReply(ListHalves.Join(Finished, more.Finished), ListHalves.Join(Unknown, more.Unknown))
        : next;
}
