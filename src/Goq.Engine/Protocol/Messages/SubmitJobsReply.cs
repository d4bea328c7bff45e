namespace Goq.Protocol;

/// <summary>Server → client: the jobs as recorded, in the order submitted; sent only once they are stored.</summary>
public sealed record SubmitJobsReply(IReadOnlyList<JobInfo> Jobs) : GoqMessage, IListReply
{
    public int ItemCount => Jobs.Count;

    public (GoqMessage First, GoqMessage Second) Split() => ListHalves.Split(Jobs, part => new SubmitJobsReply(part));

    public GoqMessage Join(GoqMessage next) => next is SubmitJobsReply more ? new SubmitJobsReply(ListHalves.Join(Jobs, more.Jobs)) : next;
}
