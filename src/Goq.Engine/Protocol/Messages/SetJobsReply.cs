namespace Goq.Protocol;

/// <summary>
/// Server → client: the jobs changed (waiting or blocked ones), those that had started or ended already (left as they
/// were), the unknown ids, and those the sender may not change (a multi-user cluster's, with why).
/// </summary>
public sealed record SetJobsReply(IReadOnlyList<JobInfo> Changed, IReadOnlyList<JobInfo> Started, IReadOnlyList<long> Unknown,
    IReadOnlyList<AccessRefusal>? Denied = null) : GoqMessage, IListReply
{
    public int ItemCount => Changed.Count + Started.Count + Unknown.Count + (Denied?.Count ?? 0);

    public (GoqMessage First, GoqMessage Second) Split()
    {
        if (Changed.Count > 1 || (Changed.Count == 1 && Started.Count + Unknown.Count > 0))
        {
            var (a, b) = Changed.Count > 1 ? ListHalves.Halve(Changed) : (Changed, []);
            return (new SetJobsReply(a, [], []), new SetJobsReply(b, Started, Unknown, Denied));
        }

        if (Started.Count > 1 || (Started.Count == 1 && Unknown.Count > 0))
        {
            var (a, b) = Started.Count > 1 ? ListHalves.Halve(Started) : (Started, []);
            return (new SetJobsReply(Changed, a, []), new SetJobsReply([], b, Unknown, Denied));
        }

        if (Unknown.Count > 1 || (Unknown.Count == 1 && Denied is { Count: > 0 }))
        {
            var (x, y) = Unknown.Count > 1 ? ListHalves.Halve(Unknown) : (Unknown, []);
            return (new SetJobsReply(Changed, Started, x), new SetJobsReply([], [], y, Denied));
        }

        var (d, e) = ListHalves.Halve(Denied ?? []);
        return (new SetJobsReply(Changed, Started, Unknown, d), new SetJobsReply([], [], [], e));
    }

    public GoqMessage Join(GoqMessage next) => next is SetJobsReply more
        ? new SetJobsReply(ListHalves.Join(Changed, more.Changed), ListHalves.Join(Started, more.Started), ListHalves.Join(Unknown, more.Unknown),
            Denied is null && more.Denied is null ? null : ListHalves.Join(Denied ?? [], more.Denied ?? []))
        : next;
}
