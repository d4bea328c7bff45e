namespace Goq.Protocol;

/// <summary>
/// Server → client: a page of the jobs found, ordered by id, and the requested ids that are not known (on the first
/// page). <paramref name="NextAfterId"/> is where the next page starts; null when this was the last.
/// </summary>
public sealed record JobsReply(IReadOnlyList<JobInfo> Jobs, IReadOnlyList<long> Unknown, long? NextAfterId = null) : GoqMessage, IListReply
{
    public int ItemCount => Jobs.Count + Unknown.Count;

    public (GoqMessage First, GoqMessage Second) Split()
    {
        if (Jobs.Count > 1)
        {
            var (a, b) = ListHalves.Halve(Jobs);
            return (this with { Jobs = a }, this with { Jobs = b, Unknown = [] });
        }

        var (x, y) = ListHalves.Halve(Unknown);
        return (this with { Unknown = x }, this with { Jobs = [], Unknown = y });
    }

    public GoqMessage Join(GoqMessage next) => next is JobsReply more
        ? more with { Jobs = ListHalves.Join(Jobs, more.Jobs), Unknown = ListHalves.Join(Unknown, more.Unknown) }
        : next;
}
