namespace Goq.Protocol;

/// <summary>
/// Client → server: change what may still change of jobs that have not started: their priority, and whether a user
/// holds them (true: Suspend-GoqJob; false: Resume-GoqJob, which also ends a -NotBefore wait). Replied to with
/// <see cref="SetJobsReply"/>.
/// </summary>
public sealed record SetJobs(IReadOnlyList<long> Ids, int? Priority, bool? Hold = null) : ClientRequest;
