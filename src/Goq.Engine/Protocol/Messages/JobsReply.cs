namespace Goq.Protocol;

/// <summary>
/// Server → client: a page of the jobs found, ordered by id, and the requested ids that are not known (on the first
/// page). <paramref name="NextAfterId"/> is where the next page starts; null when this was the last.
/// </summary>
public sealed record JobsReply([property: System.Text.Json.Serialization.JsonConverter(typeof(StoredJobsConverter))] IReadOnlyList<JobInfo> Jobs,
    IReadOnlyList<long> Unknown, long? NextAfterId = null) : GoqMessage, IListReply
{
    public int ItemCount => Jobs.Count + Unknown.Count;

    public (GoqMessage First, GoqMessage Second) Split() => ListHalves.Split(Jobs, Unknown, (jobs, unknown) => this with { Jobs = jobs, Unknown = unknown });

    public GoqMessage Join(GoqMessage next) => next is JobsReply more
        ? more with { Jobs = ListHalves.Join(Jobs, more.Jobs), Unknown = ListHalves.Join(Unknown, more.Unknown) }
        : next;
}
