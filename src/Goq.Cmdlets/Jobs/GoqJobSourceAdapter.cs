using System.Collections.Concurrent;
using System.Management.Automation;
using System.Security.Cryptography;
using Goq.Client;
using Goq.Cmdlets;
using Goq.Configuration;
using PSJobState = System.Management.Automation.JobState;

namespace Goq;

/// <summary>
/// Puts Goq jobs in PowerShell's job system (registered by Import-Module, which finds this public type). Get-Job lists,
/// besides the jobs this session made with -AsJob, the current user's jobs of the default home: every waiting and
/// running one and the most recent ended ones (RecentJobs, default 100), read from the server at each call, like
/// PSScheduledJob read its runs from disk; listing reads no job's output (a GoqJob reads it when its streams are first
/// used). Remove-Job dismisses a job from this list in every session (the server marks it, see
/// <see cref="JobInfo.Dismissed"/>) and keeps its record and output for Get-GoqJob until Remove-GoqJob. A home that is
/// not initialized, or a server that does not answer within a second, leaves Get-Job with the session's other jobs and
/// no error.
/// </summary>
public sealed class GoqJobSourceAdapter : JobSourceAdapter
{
    public const string TypeName = "GoqJob";
    private const string JobParameter = "GoqJob";
    private const int AnswerWithinMs = 1000;
    private readonly ConcurrentDictionary<Guid, GoqJob> _jobs = new();
    private readonly ConcurrentDictionary<string, GoqClient> _clients = new();

    public GoqJobSourceAdapter() => Name = TypeName;

    /// <summary>The GoqJob of a Goq job, the same object for the same job within a session (made through the JobManager).</summary>
    internal static GoqJob Adopt(PSCmdlet cmdlet, JobInfo info, GoqSettings settings, Func<GoqClient> client)
    {
        var job = new GoqJob(info, InstanceIdOf(settings, info.Id), null, client);
        var parameters = new Dictionary<string, object> { [JobParameter] = job };
        return (GoqJob)cmdlet.JobManager.NewJob(new JobInvocationInfo(new JobDefinition(typeof(GoqJobSourceAdapter), info.Command, job.Name), parameters));
    }

    /// <summary>Derived from the server's public key and the job id: the same Goq job has the same InstanceId in every session.</summary>
    internal static Guid InstanceIdOf(GoqSettings settings, long jobId) => InstanceIdOf(settings.LoadCredentials().ServerPublicKey, jobId);

    private static Guid InstanceIdOf(byte[] serverKey, long jobId)
    {
        var hash = SHA256.HashData([.. serverKey, .. BitConverter.GetBytes(jobId)]);
        return new Guid(hash.AsSpan(0, 16));
    }

    public override Job2 NewJob(JobInvocationInfo specification)
    {
        var given = specification.Parameters.SelectMany(p => p).FirstOrDefault(p => p.Name == JobParameter)?.Value as GoqJob
            ?? throw new ArgumentException("a GoqJob is made by the Goq cmdlets (Submit-GoqJob -AsJob, Get-GoqJob -AsJob)");
        return Keep(given);
    }

    public override IList<Job2> GetJobs() => [.. Refresh()];

    public override IList<Job2> GetJobsByName(string name, bool recurse)
    {
        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
        return [.. Refresh().Where(j => pattern.IsMatch(j.Name))];
    }

    public override IList<Job2> GetJobsByCommand(string command, bool recurse)
    {
        var pattern = new WildcardPattern(command, WildcardOptions.IgnoreCase);
        return [.. Refresh().Where(j => pattern.IsMatch(j.Command))];
    }

    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) =>
        _jobs.TryGetValue(instanceId, out var known) ? known : Refresh().FirstOrDefault(j => j.InstanceId == instanceId);

    public override Job2? GetJobBySessionId(int id, bool recurse) =>
        _jobs.Values.FirstOrDefault(j => j.Id == id) ?? Refresh().FirstOrDefault(j => j.Id == id);

    public override IList<Job2> GetJobsByState(PSJobState state, bool recurse) => [.. Refresh().Where(j => j.JobStateInfo.State == state)];

    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) => [];

    /// <summary>
    /// Remove-Job: the job is dismissed from Get-Job in every session of its owner, and kept on the server with its output
    /// (Remove-GoqJob deletes it). Remove-Job -Force has stopped an unfinished job first.
    /// </summary>
    public override void RemoveJob(Job2 job)
    {
        if (job is GoqJob goq)
        {
            var reply = goq.Client().DismissAsync([goq.GoqId]).GetAwaiter().GetResult();
            if (reply.Denied is [{ } refused, ..])
            {
                throw new UnauthorizedAccessException(refused.Message);
            }

            if (reply.StillActive.Contains(goq.GoqId))
            {
                throw new InvalidOperationException($"Goq job {goq.GoqId} has not ended: stop it first (Stop-Job, or Remove-Job -Force)");
            }

            Forget(goq);
        }
    }

    internal void Forget(GoqJob job) => _jobs.TryRemove(job.InstanceId, out _);

    private GoqJob Keep(GoqJob job) => Keep(_jobs.GetOrAdd(job.InstanceId, job), job.Info);

    private GoqJob Keep(GoqJob kept, JobInfo info)
    {
        kept.Owner ??= this;
        kept.UpdateListed(info);
        if (!kept.Info.State.IsTerminal())
        {
            kept.WatchEnd();
        }

        return kept;
    }

    /// <summary>The jobs known here, after asking the default home's server for the current user's.</summary>
    private IEnumerable<GoqJob> Refresh()
    {
        try
        {
            var settings = GoqSettings.Load(null);
            ServerProbe.ThrowIfNotListening(settings);
            var client = _clients.GetOrAdd(settings.Endpoint, _ => GoqClient.ForHome(settings, requestTimeoutMs: AnswerWithinMs));
            if (!client.IsUsable)
            {
                _clients.TryRemove(settings.Endpoint, out _);
                client = _clients.GetOrAdd(settings.Endpoint, _ => GoqClient.ForHome(settings, requestTimeoutMs: AnswerWithinMs));
            }

            var mine = System.Environment.UserName + "@";
            var credentials = settings.LoadCredentials();
            var key = credentials.ServerPublicKey;
            var listed = new HashSet<Guid>();
            // A user of a multi-user cluster owns the jobs their key submitted, whatever host they came from.
            var owner = credentials.User?.User;
            foreach (var info in Mine(client, settings.RecentJobs).Where(j => owner is not null ? j.Owner == owner : j.SubmittedBy.StartsWith(mine, StringComparison.Ordinal)))
            {
                // The listing's own client answers within a second or not at all; a job's work (its watch, its output,
                // Stop-Job) takes the cached client that Adopt gives too, replaced whenever it breaks. A job made final
                // here reads no output until its streams are used.
                var id = InstanceIdOf(key, info.Id);
                listed.Add(id);
                _ = _jobs.TryGetValue(id, out var kept)
                    ? Keep(kept, info)
                    : Keep(new GoqJob(info, id, this, () => ClientCache.Get(settings)));
            }

            ForgetDismissed(client, key, listed);
        }
        catch (Exception ex) when (ex is Errors.GoqException or IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // Checkpoint: Get-Job stays quiet and quick when Goq cannot be reached; it lists what this session knows,
            // and says why only when asked (-Verbose).
            CallerVerbose.Write($"Goq: the jobs of the default home are not listed: {ex.Message}");
        }

        return _jobs.Values.OrderBy(j => j.Id);
    }

    /// <summary>Every waiting and running job, and the most recent <paramref name="recent"/> ended ones, but array tasks and dismissed jobs.</summary>
    private static IEnumerable<JobInfo> Mine(GoqClient client, int recent)
    {
        // Not the tasks of arrays: an array is not a PowerShell job, and one of 100,000 tasks would swamp Get-Job.
        var (active, ended) = client.GetActiveAndRecentAsync(recent, arrayTasks: false, dismissed: false).GetAwaiter().GetResult();
        return active.Concat(ended);
    }

    /// <summary>
    /// The ended jobs this session keeps from this server that the listing left out: those dismissed since (Remove-Job in
    /// another session) leave this session's list too; the others (older than the listing reaches) stay.
    /// </summary>
    private void ForgetDismissed(GoqClient client, byte[] serverKey, HashSet<Guid> listed)
    {
        var unlisted = _jobs.Values.Where(j => j.Ended && !listed.Contains(j.InstanceId) && j.InstanceId == InstanceIdOf(serverKey, j.GoqId))
            .ToDictionary(j => j.GoqId);
        long? after = 0;
        while (unlisted.Count > 0 && after is { } from)
        {
            var page = client.GetJobsPageAsync([.. unlisted.Keys], null, from, filter: new JobFilter { Dismissed = true }).GetAwaiter().GetResult();
            foreach (var dismissed in page.Jobs)
            {
                if (unlisted.TryGetValue(dismissed.Id, out var job))
                {
                    Forget(job);
                }
            }

            after = page.NextAfterId;
        }
    }
}
