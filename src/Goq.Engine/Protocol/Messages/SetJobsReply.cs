namespace Goq.Protocol;

/// <summary>
/// Server → client: the jobs changed (waiting or blocked ones), those that had started or ended already (left as they
/// were) and the unknown ids.
/// </summary>
public sealed record SetJobsReply(IReadOnlyList<JobInfo> Changed, IReadOnlyList<JobInfo> Started, IReadOnlyList<long> Unknown) : GoqMessage, IListReply
{
    public int ItemCount => Changed.Count + Started.Count + Unknown.Count;

    public (GoqMessage First, GoqMessage Second) Split()
    {
        if (Changed.Count > 1 || (Changed.Count == 1 && Started.Count + Unknown.Count > 0))
        {
            var (a, b) = Changed.Count > 1 ? ListHalves.Halve(Changed) : (Changed, []);
            return (new SetJobsReply(a, [], []), new SetJobsReply(b, Started, Unknown));
        }

        if (Started.Count > 1 || (Started.Count == 1 && Unknown.Count > 0))
        {
            var (a, b) = Started.Count > 1 ? ListHalves.Halve(Started) : (Started, []);
            return (new SetJobsReply(Changed, a, []), new SetJobsReply([], b, Unknown));
        }

        var (x, y) = ListHalves.Halve(Unknown);
        return (new SetJobsReply(Changed, Started, x), new SetJobsReply([], [], y));
    }

    public GoqMessage Join(GoqMessage next) => next is SetJobsReply more
        ? new SetJobsReply(ListHalves.Join(Changed, more.Changed), ListHalves.Join(Started, more.Started), ListHalves.Join(Unknown, more.Unknown))
        : next;
}
