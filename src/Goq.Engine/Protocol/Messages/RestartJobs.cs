namespace Goq.Protocol;

/// <summary>
/// Client → server: run ended jobs again under their own ids (Restart-GoqJob), with
/// <paramref name="IncludeDependents"/> also the jobs that ended DependencyFailed because of them, however deep.
/// Replied to with <see cref="SetJobsReply"/>: the jobs restarted, those that have not ended (left as they are), and
/// the unknown ids.
/// </summary>
public sealed record RestartJobs(IReadOnlyList<long> Ids, bool IncludeDependents = false) : ClientRequest;
