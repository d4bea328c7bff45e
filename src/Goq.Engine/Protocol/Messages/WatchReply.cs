namespace Goq.Protocol;

/// <summary>
/// Server → client: the watched jobs that have already ended, and the ids the server does not know. An array job's id
/// stands for its tasks: <paramref name="Arrays"/> says which ids those are, and the tasks are watched instead.
/// </summary>
public sealed record WatchReply(IReadOnlyList<JobInfo> Finished, IReadOnlyList<long> Unknown, IReadOnlyList<ArrayTasks>? Arrays = null) : GoqMessage, IListReply
{
    public int ItemCount => Finished.Count + Unknown.Count;

    public (GoqMessage First, GoqMessage Second) Split()
    {
        // The arrays travel with the first part, so a client knows every task before any of them is reported ended.
        var (first, second) = ListHalves.Split(Finished, Unknown, (finished, unknown) => new WatchReply(finished, unknown));
        return (((WatchReply)first) with { Arrays = Arrays }, second);
    }

    public GoqMessage Join(GoqMessage next) => next is WatchReply more
        ? new WatchReply(ListHalves.Join(Finished, more.Finished), ListHalves.Join(Unknown, more.Unknown), Arrays ?? more.Arrays)
        : next;
}
