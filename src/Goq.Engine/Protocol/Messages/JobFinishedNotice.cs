namespace Goq.Protocol;

/// <summary>
/// Server → client: watched jobs ended. Carries the watch's request id in the envelope. Ends that come close together
/// travel in one notice (see Server.NoticeBatcher), so a client waiting on many jobs is not woken for each. Each part
/// of a split notice is a notice of its own.
/// </summary>
public sealed record JobFinishedNotice(IReadOnlyList<JobInfo> Jobs) : GoqMessage, IListReply
{
    public int ItemCount => Jobs.Count;

    public (GoqMessage First, GoqMessage Second) Split() => ListHalves.Split(Jobs, part => new JobFinishedNotice(part));

    public GoqMessage Join(GoqMessage next) => next is JobFinishedNotice more ? new JobFinishedNotice(ListHalves.Join(Jobs, more.Jobs)) : next;
}
