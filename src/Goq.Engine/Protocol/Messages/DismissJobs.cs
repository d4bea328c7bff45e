namespace Goq.Protocol;

/// <summary>
/// Client → server: dismiss these ended jobs from PowerShell's job list (Remove-Job on a GoqJob): they are marked
/// <see cref="JobInfo.Dismissed"/> and kept, with their output. Replied to with <see cref="DismissJobsReply"/>.
/// </summary>
public sealed record DismissJobs(IReadOnlyList<long> Ids) : ClientRequest;
