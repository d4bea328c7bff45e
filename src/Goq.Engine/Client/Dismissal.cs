using Goq.Protocol;

namespace Goq.Client;

/// <summary>Remove-Job for Goq jobs: the job leaves PowerShell's job list in every session and stays on the server.</summary>
public static class Dismissal
{
    /// <summary>Marks ended jobs <see cref="JobInfo.Dismissed"/>; the reply says which have not ended and which are unknown.</summary>
    public static Task<DismissJobsReply> DismissAsync(this GoqClient client, IReadOnlyList<long> ids, CancellationToken cancel = default) =>
        client.RequestAsync<DismissJobsReply>(new DismissJobs(ids), cancel);
}
