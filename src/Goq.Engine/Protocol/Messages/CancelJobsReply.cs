namespace Goq.Protocol;

/// <summary>
/// Server → client: the jobs now cancelled (a running one's process tree is being killed), those that had already
/// ended (left as they were), the unknown ids, and those the sender may not stop (a multi-user cluster's, with why).
/// </summary>
public sealed record CancelJobsReply(IReadOnlyList<JobInfo> Cancelled, IReadOnlyList<JobInfo> AlreadyEnded, IReadOnlyList<long> Unknown,
    IReadOnlyList<AccessRefusal>? Denied = null)
    : GoqMessage, IListReply
{
    public int ItemCount => Cancelled.Count + AlreadyEnded.Count + Unknown.Count + (Denied?.Count ?? 0);

    public (GoqMessage First, GoqMessage Second) Split()
    {
        if (Cancelled.Count > 1 || (Cancelled.Count == 1 && AlreadyEnded.Count + Unknown.Count > 0))
        {
            var (a, b) = Cancelled.Count > 1 ? ListHalves.Halve(Cancelled) : (Cancelled, []);
            return (new CancelJobsReply(a, [], []), new CancelJobsReply(b, AlreadyEnded, Unknown, Denied));
        }

        if (AlreadyEnded.Count > 1 || (AlreadyEnded.Count == 1 && Unknown.Count > 0))
        {
            var (a, b) = AlreadyEnded.Count > 1 ? ListHalves.Halve(AlreadyEnded) : (AlreadyEnded, []);
            return (new CancelJobsReply(Cancelled, a, []), new CancelJobsReply([], b, Unknown, Denied));
        }

        if (Unknown.Count > 1 || (Unknown.Count == 1 && Denied is { Count: > 0 }))
        {
            var (x, y) = Unknown.Count > 1 ? ListHalves.Halve(Unknown) : (Unknown, []);
            return (new CancelJobsReply(Cancelled, AlreadyEnded, x), new CancelJobsReply([], [], y, Denied));
        }

        var (d, e) = ListHalves.Halve(Denied ?? []);
        return (new CancelJobsReply(Cancelled, AlreadyEnded, Unknown, d), new CancelJobsReply([], [], [], e));
    }

    public GoqMessage Join(GoqMessage next) => next is CancelJobsReply more
        ? new CancelJobsReply(ListHalves.Join(Cancelled, more.Cancelled), ListHalves.Join(AlreadyEnded, more.AlreadyEnded), ListHalves.Join(Unknown, more.Unknown),
            Denied is null && more.Denied is null ? null : ListHalves.Join(Denied ?? [], more.Denied ?? []))
        : next;
}
