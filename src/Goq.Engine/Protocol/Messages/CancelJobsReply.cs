namespace Goq.Protocol;

/// <summary>
/// Server → client: the jobs now cancelled (a running one's process tree is being killed), those that had already
/// ended (left as they were) and the unknown ids.
/// </summary>
public sealed record CancelJobsReply(IReadOnlyList<JobInfo> Cancelled, IReadOnlyList<JobInfo> AlreadyEnded, IReadOnlyList<long> Unknown)
    : GoqMessage, IListReply
{
    public int ItemCount => Cancelled.Count + AlreadyEnded.Count + Unknown.Count;

    public (GoqMessage First, GoqMessage Second) Split()
    {
        if (Cancelled.Count > 1 || (Cancelled.Count == 1 && AlreadyEnded.Count + Unknown.Count > 0))
        {
            var (a, b) = Cancelled.Count > 1 ? ListHalves.Halve(Cancelled) : (Cancelled, []);
            return (new CancelJobsReply(a, [], []), new CancelJobsReply(b, AlreadyEnded, Unknown));
        }

        if (AlreadyEnded.Count > 1 || (AlreadyEnded.Count == 1 && Unknown.Count > 0))
        {
            var (a, b) = AlreadyEnded.Count > 1 ? ListHalves.Halve(AlreadyEnded) : (AlreadyEnded, []);
            return (new CancelJobsReply(Cancelled, a, []), new CancelJobsReply([], b, Unknown));
        }

        var (x, y) = ListHalves.Halve(Unknown);
        return (new CancelJobsReply(Cancelled, AlreadyEnded, x), new CancelJobsReply([], [], y));
    }

    public GoqMessage Join(GoqMessage next) => next is CancelJobsReply more
        ? new CancelJobsReply(ListHalves.Join(Cancelled, more.Cancelled), ListHalves.Join(AlreadyEnded, more.AlreadyEnded), ListHalves.Join(Unknown, more.Unknown))
        : next;
}
