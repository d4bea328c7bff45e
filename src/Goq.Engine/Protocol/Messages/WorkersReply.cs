namespace Goq.Protocol;

/// <summary>Server → client: the connected workers.</summary>
public sealed record WorkersReply(IReadOnlyList<WorkerInfo> Workers) : GoqMessage, IListReply
{
    public int ItemCount => Workers.Count;

    public (GoqMessage First, GoqMessage Second) Split()
    {
        var (a, b) = ListHalves.Halve(Workers);
        return (new WorkersReply(a), new WorkersReply(b));
    }

    public GoqMessage Join(GoqMessage next) => next is WorkersReply more ? new WorkersReply(ListHalves.Join(Workers, more.Workers)) : next;
}
