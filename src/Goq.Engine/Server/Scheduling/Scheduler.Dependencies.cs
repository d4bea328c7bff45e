namespace Goq.Server.Scheduling;

/// <summary>Jobs that wait for others (<c>-DependsOn</c>): blocked until settled, never left in limbo.</summary>
public sealed partial class Scheduler
{
    /// <summary>Enters a job's dependencies in the graph; the verdict says whether they are met, pending, or never to be met.</summary>
    private Verdict Depend(JobInfo job, Func<long, JobState?> endedState)
    {
        var dependencies = job.DependsOn.Select(id => (id, State(id)));
        return _dependencies.Add(job.Id, job.DependencyMode, dependencies);

        // Held here: not ended. Ended: as it ended, else as the store says; a job nobody knows any more counts as failed.
        JobState? State(long id) => _places.Holds(id) || _arrays.ContainsKey(id) || IsUnmadeTask(id) ? null
            : _leases.IsKilling(id, out _) ? JobState.Cancelled : endedState(id) ?? JobState.Failed;
    }

    /// <summary>
    /// A job has ended: the jobs blocked on it are placed again (waiting, or still blocked for fewer jobs) or ended, and
    /// so on down the graph, all in this call. (Guarantee point: no job whose dependency can no longer be met stays
    /// blocked, nor one held back.)
    /// </summary>
    private void Settle(JobInfo ended, DateTimeOffset now)
    {
        var work = new Queue<JobInfo>();
        work.Enqueue(ended);
        var placed = false;
        while (work.TryDequeue(out var job) || _arrays.TakeEnded(out job))
        {
            foreach (var (id, verdict) in _dependencies.Ended(job.Id, job.State))
            {
                if (!_jobs.TryGetValue(id, out var dependent))
                {
                    continue;
                }

                if (verdict.Outcome == DependencyOutcome.Failed)
                {
                    Conclude(dependent, JobState.DependencyFailed, verdict.Reason!, now);
                    work.Enqueue(dependent); // iteratively, not recursively: a chain of any length is settled here
                }
                else
                {
                    Place(dependent, now);
                    placed = true;
                }
            }
        }

        if (placed)
        {
            AskForScheduling();
        }
    }
}
