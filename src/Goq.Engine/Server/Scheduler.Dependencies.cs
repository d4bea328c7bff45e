namespace Goq.Server;

/// <summary>Jobs that wait for others (<c>-DependsOn</c>): blocked until settled, never left in limbo.</summary>
public sealed partial class Scheduler
{
    /// <summary>A job with dependencies: blocked, queued at once (they are met), or ended (they can no longer be met).</summary>
    private void Block(JobInfo job, Func<long, JobState?> endedState, DateTimeOffset now)
    {
        var dependencies = job.DependsOn.Select(id => (id, State(id)));
        var verdict = _dependencies.Add(job.Id, job.DependencyMode, dependencies);
        switch (verdict.Outcome)
        {
            case DependencyOutcome.Ready:
                Unblock(job);
                break;
            case DependencyOutcome.Failed:
                End(job, JobState.DependencyFailed, verdict.Reason!, now);
                break;
            default:
                job.State = JobState.Blocked;
                job.Reason = verdict.Reason;
                _store.Update(job);
                break;
        }

        // Held here: not ended. Ended: as it ended, else as the store says; a job nobody knows any more counts as failed.
        JobState? State(long id) => _active.ContainsKey(id) ? null : _cancelling.ContainsKey(id) ? JobState.Cancelled : endedState(id) ?? JobState.Failed;
    }

    /// <summary>
    /// A job has ended: the jobs blocked on it that this settles are queued or ended, and so on down the graph, all in
    /// this call. (Guarantee point: no job whose dependency can no longer be met stays blocked.)
    /// </summary>
    private void Settle(JobInfo ended, DateTimeOffset now)
    {
        var work = new Queue<JobInfo>();
        work.Enqueue(ended);
        var queued = false;
        while (work.TryDequeue(out var job))
        {
            foreach (var (id, verdict) in _dependencies.Ended(job.Id, job.State))
            {
                if (!_active.TryGetValue(id, out var dependent))
                {
                    continue;
                }

                if (verdict.Outcome == DependencyOutcome.Blocked)
                {
                    dependent.Reason = verdict.Reason; // still waiting, for fewer jobs
                    _store.Update(dependent);
                }
                else if (verdict.Outcome == DependencyOutcome.Ready)
                {
                    Unblock(dependent);
                    queued = true;
                }
                else
                {
                    Conclude(dependent, JobState.DependencyFailed, verdict.Reason!, now);
                    work.Enqueue(dependent); // iteratively, not recursively: a chain of any length is settled here
                }
            }
        }

        if (queued)
        {
            Dispatch();
        }
    }

    /// <summary>Its dependencies are met: it waits for a slot, in its place (by priority, then id).</summary>
    private void Unblock(JobInfo job)
    {
        job.State = JobState.Waiting;
        job.Reason = null;
        _store.Update(job);
        _waiting.Add(job.Id, job.Priority);
    }
}
