namespace Goq.Client;

/// <summary>
/// The jobs a user most likely means: every waiting and running one, and the most recent ended ones. What Get-Job
/// lists from a server, and what tab completion offers.
/// </summary>
public static class RecentJobs
{
    private static readonly JobState[] ActiveStates = [JobState.Waiting, JobState.Running, JobState.Blocked, JobState.Held];
    private static readonly JobState[] EndedStates = [.. JobStateExtensions.Terminal];

    /// <summary>
    /// The waiting and running jobs (at most about <paramref name="maxActive"/>: whole pages of them) and the
    /// <paramref name="recent"/> ended jobs with the highest ids, each list in id order. Without
    /// <paramref name="dismissed"/>, not the jobs dismissed from Get-Job (Remove-Job).
    /// </summary>
    public static async Task<(IReadOnlyList<JobInfo> Active, IReadOnlyList<JobInfo> Ended)> GetActiveAndRecentAsync(this GoqClient client, int recent,
        int maxActive = int.MaxValue, CancellationToken cancel = default, bool arrayTasks = true, bool dismissed = true)
    {
        var filter = arrayTasks && dismissed ? null : new JobFilter { ArrayTasks = arrayTasks ? null : false, Dismissed = dismissed ? null : false };
        var active = new List<JobInfo>();
        long? after = 0;
        while (after is { } from && active.Count < maxActive)
        {
            var page = await client.GetJobsPageAsync(null, ActiveStates, from, cancel, filter).ConfigureAwait(false);
            active.AddRange(page.Jobs);
            after = page.NextAfterId;
        }

        if (recent <= 0)
        {
            return (active, []);
        }

        // The newest ended jobs are near the top of the id range: look back further until there are enough.
        var next = (await client.GetStatusAsync(cancel).ConfigureAwait(false)).NextJobId;
        IReadOnlyList<JobInfo> ended = [];
        for (long window = recent * 2L; ; window *= 4)
        {
            var start = Math.Max(0, next - 1 - window);
            var found = new List<JobInfo>();
            long? page = start;
            while (page is { } from && found.Count < recent * 8L)
            {
                var reply = await client.GetJobsPageAsync(null, EndedStates, from, cancel, filter).ConfigureAwait(false);
                found.AddRange(reply.Jobs);
                page = reply.NextAfterId;
            }

            ended = found.TakeLast(recent).ToList();
            if (ended.Count >= recent || start == 0)
            {
                return (active, ended);
            }
        }
    }
}
