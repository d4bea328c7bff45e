using Goq.Identity;
using Goq.Protocol;

namespace Goq.Server.Access;

/// <summary>
/// Which key speaks for each worker, and what a user's key may report as a worker: only about that user's jobs, and
/// only for a worker that user announced (a worker the cluster's secret announced is never a user's). The one owner of
/// that state; used on the server's loop thread only. Worker ids are not kept across a restart, which is why every
/// report about a job is also checked against the job's owner.
/// </summary>
public sealed class WorkerClaims
{
    // null: the cluster's worker; else the user whose own worker it is.
    private readonly Dictionary<string, string?> _owners = new(StringComparer.Ordinal);

    /// <summary>Worker messages refused, since the server started.</summary>
    public long Refused { get; private set; }

    /// <summary>The cluster secret announced this worker: no user's key speaks for it from now on.</summary>
    public void ClaimForCluster(string workerId) => _owners[workerId] = null;

    /// <summary>
    /// Null when <paramref name="who"/> (a user) may send this worker message; else why not (counted). A user's first
    /// hello for a worker id no one holds claims it.
    /// </summary>
    public string? Refusal(Principal who, GoqMessage body, Func<long, string?> ownerOf)
    {
        var why = Check(who, body, ownerOf);
        if (why is not null)
        {
            Refused++;
        }

        return why;
    }

    private string? Check(Principal who, GoqMessage body, Func<long, string?> ownerOf)
    {
        var (workerId, jobId) = body switch
        {
            WorkerHello hello => (hello.WorkerId, (long?)null),
            WorkerBye bye => (bye.WorkerId, null),
            JobStarted started => (started.WorkerId, started.JobId),
            JobOutput output => (output.WorkerId, output.JobId),
            JobOutputWritten written => (written.WorkerId, written.JobId),
            JobReturned returned => (returned.WorkerId, returned.JobId),
            JobFinished finished => (finished.WorkerId, finished.JobId),
            _ => ((string?)null, (long?)null),
        };
        if (workerId is null)
        {
            return null;
        }

        // Checkpoint (identity): a user's key reports only on that user's jobs, whatever worker it names.
        if (jobId is { } id && ownerOf(id) is { } jobOwner && jobOwner != who.Name)
        {
            return $"refused a worker's report from {who.Name} about job {id}, which is {jobOwner}'s";
        }

        if (_owners.TryGetValue(workerId, out var owner))
        {
            return owner == who.Name ? null : $"refused a worker's message from {who.Name}: worker {workerId} is {(owner is null ? "the cluster's" : owner + "'s")}";
        }

        if (body is not WorkerHello)
        {
            return $"refused a worker's message from {who.Name}: worker {workerId} has not announced itself with that key";
        }

        _owners[workerId] = who.Name;
        return null;
    }
}
