namespace Goq.Protocol;

/// <summary>Server → client: the connected workers.</summary>
public sealed record WorkersReply(IReadOnlyList<WorkerInfo> Workers) : GoqMessage, IListReply
{
    public int ItemCount => Workers.Count;

    public (GoqMessage First, GoqMessage Second) Split() => ListHalves.Split(Workers, part => new WorkersReply(part));

    public GoqMessage Join(GoqMessage next) => next is WorkersReply more ? new WorkersReply(ListHalves.Join(Workers, more.Workers)) : next;
}
