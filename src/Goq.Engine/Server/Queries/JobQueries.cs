using Goq.Protocol;
using Goq.Storage;

using Goq.Timing;
using Goq.Server.Scheduling;
using Goq.Transport;

namespace Goq.Server.Queries;

// Over 400 lines across its partial files: every read of ended jobs the store answers; issue 27 splits pages from
// changes.
/// <summary>
/// What clients ask about jobs that the store answers: ended jobs, pages of the job list, batches seen before,
/// removals. The <see cref="Scheduler"/> holds only the active jobs and never reads the store; this is where its
/// answers and the store's meet. Owned by the server's loop thread, like both.
/// </summary>
internal sealed partial class JobQueries(IJobStore store, Scheduler scheduler)
{
    public const int DefaultPageSize = 1000;

    public const int MaxPageSize = 10_000;

    /// <summary>A job as it is now: the scheduler's own record of one it holds, else the stored one; an array job's own record.</summary>
    public JobInfo? Job(long id) => scheduler.GetJob(id) ?? store.Get(id) ?? ArrayRecord(id);

    /// <summary>Whose job an id is: the job's owner, or for a task of an array not made yet its array's; null for an unknown id.</summary>
    public string? OwnerOf(long id) => Job(id)?.Owner ?? scheduler.OwnerOfTask(id);

    /// <summary>
    /// One page of jobs past <paramref name="afterId"/>; unknown ids are reported with the first page. An array job's id
    /// stands for its tasks (those with <see cref="JobFilter.ArrayIndexes"/>, when given), and tasks not made yet are
    /// rows like the others.
    /// </summary>
    public JobsReply GetJobs(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states, long afterId = 0, int limit = DefaultPageSize, JobFilter? filter = null)
    {
        var page = PlanPage(ids, states, afterId, limit, filter);
        return FinishPage(page, store.Query(page.Window, page.States, page.AfterId, page.Limit + 1, page.Filter, toSend: true));
    }

    /// <summary>
    /// What a page needs from the scheduler, taken now: the ids it may hold, the unknown ones, and the array tasks not
    /// made yet. Its stored rows can then be read elsewhere (<see cref="PageRead"/>), from a commit after this turn's.
    /// </summary>
    public PageRead PlanPage(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states, long afterId, int limit, JobFilter? filter)
    {
        limit = Math.Clamp(limit <= 0 ? DefaultPageSize : limit, 1, MaxPageSize);
        List<long>? window = null;
        var truncated = false;
        var unknown = new List<long>();
        if (ids is not null)
        {
            // Only the next page's worth of ids is looked up: every id stands for one row, stored or not made yet.
            var (expanded, _) = Expand(ids, filter?.ArrayIndexes);
            var ahead = expanded.Where(id => id > afterId).Order().Take(limit + 2).ToList();
            truncated = ahead.Count > limit + 1;
            window = ahead.Take(limit + 1).ToList();
            if (afterId == 0)
            {
                unknown.AddRange(ids.Distinct().Where(id => ArrayRecord(id) is null && store.Get(id) is null && !scheduler.IsUnmadeTask(id)));
            }
        }

        return new PageRead(window, states, afterId, limit, filter, unknown, truncated, scheduler.UnmadeJobs(window, states, afterId, limit + 1, filter));
    }

    /// <summary>
    /// The reply for a planned page and its stored rows. A task made after the plan was taken may be in both (it is
    /// sent once, as stored); one made after the rows were read is among the plan's tasks not made yet.
    /// </summary>
    public JobsReply FinishPage(PageRead page, IReadOnlyList<JobInfo> stored)
    {
        var rows = new SortedDictionary<long, JobInfo>();
        foreach (var job in page.Unmade)
        {
            rows[job.Id] = job;
        }

        foreach (var job in stored)
        {
            rows[job.Id] = job;
        }

        var limit = page.Limit;
        var jobs = rows.Values.Take(limit + 1).Select(Explained).ToList();
        return jobs.Count > limit ? new JobsReply(jobs.Take(limit).ToList(), page.Unknown, jobs[limit - 1].Id)
            : page.Truncated ? new JobsReply(jobs, page.Unknown, page.Window![^1])
            : new JobsReply(jobs, page.Unknown);
    }

    /// <summary>A waiting job with why it does not start (a copy: the scheduler's own record is not changed), else the job.</summary>
    private JobInfo Explained(JobInfo job)
    {
        if (job.State != JobState.Waiting || job.Reason is not null || scheduler.WhyWaiting(job.Id) is not { } why)
        {
            return job;
        }

        var copy = job.Clone();
        copy.Reason = why;
        return copy;
    }

    /// <summary>Jobs per state: the active ones as the scheduler holds them, the ended ones as the store counts them.</summary>
    public JobStateCounts CountStates()
    {
        var counts = new JobStateCounts
        {
            Waiting = scheduler.WaitingJobs,
            Running = scheduler.RunningJobs,
            Blocked = scheduler.BlockedJobs,
            Held = scheduler.HeldJobs,
        };
        foreach (var (state, count) in store.CountStates(JobStateExtensions.Terminal))
        {
            counts.Add(state, count);
        }

        return counts;
    }

    /// <summary>Registers a watch on the active jobs; returns those that already ended, and the unknown ids.</summary>
    public WatchReply Watch(PeerId peer, long rid, IReadOnlyList<long> ids)
    {
        var (expanded, arrays) = Expand(ids);
        var finished = new List<JobInfo>();
        var unknown = new List<long>();
        var notActive = scheduler.Watch(peer, rid, expanded);
        var ended = store.Query(notActive, null).ToDictionary(j => j.Id);
        foreach (var id in notActive)
        {
            if (ended.TryGetValue(id, out var done))
            {
                finished.Add(done);
            }
            else
            {
                unknown.Add(id);
            }
        }

        return new WatchReply(finished, unknown, arrays.Count > 0 ? arrays : null);
    }

    /// <summary>
    /// The ids a request names, each once, in steps of a few thousand (at least one step, perhaps empty), the last one
    /// marked: scheduling runs once, after it, as it would for the request in one event.
    /// </summary>
    private static IEnumerable<(long[] Ids, bool Last)> NamedInSteps(IReadOnlyList<long> ids)
    {
        var steps = ids.Distinct().Chunk(NamedStep).ToList();
        if (steps.Count == 0)
        {
            steps.Add([]);
        }

        return steps.Select((step, i) => (step, i == steps.Count - 1));
    }

    // How many named jobs are read back and changed in one event: bounds what a request naming a million holds whole.
    private const int NamedStep = 4096;

    /// <summary>Cancels the active jobs; of the others, says which ended already and which are unknown.</summary>
    public CancelJobsReply Cancel(IReadOnlyList<long> ids, Instant now)
    {
        // A few thousand at a time: each is read back whole first if it is kept by its place in the queue.
        CancelJobsReply? reply = null;
        foreach (var (some, last) in NamedInSteps(ids))
        {
            scheduler.ReadBack(store, some);
            var step = scheduler.Cancel(some, now, schedule: last);
            reply = reply is null ? step : new CancelJobsReply([.. reply.Cancelled, .. step.Cancelled], [.. reply.AlreadyEnded, .. step.AlreadyEnded], [.. reply.Unknown, .. step.Unknown]);
        }

        ArgumentNullException.ThrowIfNull(reply); // NamedInSteps gives at least one step
        var ended = reply.AlreadyEnded.ToList();
        var unknown = new List<long>();
        foreach (var id in reply.Unknown)
        {
            if (Job(id) is { } done)
            {
                ended.Add(done);
            }
            else
            {
                unknown.Add(id);
            }
        }

        return reply with { AlreadyEnded = ended, Unknown = unknown };
    }

    /// <summary>
    /// Changes jobs that have not started (their priority, a hold); of the others, says which started or ended and which
    /// are unknown. Null when the message asks for no change.
    /// </summary>
    public SetJobsReply? Change(SetJobs set, Instant now)
    {
        if (set.Ids is not { } ids || (set.Priority is null && set.Hold is null))
        {
            return null;
        }

        // A few thousand at a time: each is read back whole first if it is kept by its place in the queue.
        SetJobsReply? reply = null;
        foreach (var (some, last) in NamedInSteps(ids))
        {
            scheduler.ReadBack(store, some);
            var step = set.Priority is { } priority ? scheduler.SetPriority(some, priority, now) : null;
            step = set.Hold switch
            {
                true => scheduler.Hold(some, now),
                false => scheduler.Release(some, now, schedule: last),
                null => step!,
            };
            reply = reply is null ? step : new SetJobsReply([.. reply.Changed, .. step.Changed], [.. reply.Started, .. step.Started], [.. reply.Unknown, .. step.Unknown]);
        }

        ArgumentNullException.ThrowIfNull(reply); // NamedInSteps gives at least one step
        var started = reply.Started.ToList();
        var unknown = new List<long>();
        foreach (var id in reply.Unknown)
        {
            if (Job(id) is { } done)
            {
                started.Add(done);
            }
            else
            {
                unknown.Add(id);
            }
        }

        return reply with { Started = started, Unknown = unknown };
    }

    /// <summary>
    /// Runs ended jobs again (Restart-GoqJob), with <paramref name="includeDependents"/> also every job that ended
    /// DependencyFailed because of one of them, transitively; reports the jobs that have not ended and the unknown ids.
    /// </summary>
    /// <param name="onlyOwner">A user who may restart only their own jobs: others' dependents are left as they are.</param>
    public SetJobsReply Restart(IReadOnlyList<long> ids, bool includeDependents, Instant now, string? onlyOwner = null)
    {
        var notEnded = new List<JobInfo>();
        var unknown = new List<long>();
        var chosen = new SortedDictionary<long, (JobInfo, JobSpec)>();
        var (expanded, arrays) = Expand(ids);
        var ofArrays = ArrayTaskIds(arrays, now);
        foreach (var id in expanded)
        {
            if (ofArrays.Contains(id) && (scheduler.GetJob(id) is not null || scheduler.IsUnmadeTask(id)))
            {
                continue; // an array's id restarts its ended tasks; the others are no error
            }

            if (scheduler.GetJob(id) is { } active)
            {
                notEnded.Add(active);
            }
            else if (store.Get(id) is { } ended && store.GetSpec(id) is { } spec)
            {
                chosen[id] = (ended.Clone(), spec); // the scheduler's own record from now: never the store's
            }
            else
            {
                unknown.Add(id);
            }
        }

        if (includeDependents && chosen.Count > 0)
        {
            // Who broke on whom: every job that ended DependencyFailed, by the jobs it depends on.
            var dependents = new Dictionary<long, List<JobInfo>>();
            foreach (var broken in store.Query(null, [JobState.DependencyFailed]))
            {
                foreach (var on in broken.DependsOn)
                {
                    (dependents.TryGetValue(on, out var list) ? list : dependents[on] = []).Add(broken);
                }
            }

            var next = new Queue<long>(chosen.Keys);
            while (next.TryDequeue(out var id))
            {
                foreach (var dependent in dependents.GetValueOrDefault(id) ?? [])
                {
                    if (!chosen.ContainsKey(dependent.Id) && (onlyOwner is null || dependent.Owner == onlyOwner) && store.GetSpec(dependent.Id) is { } spec)
                    {
                        chosen[dependent.Id] = (dependent, spec);
                        next.Enqueue(dependent.Id);
                    }
                }
            }
        }

        return new SetJobsReply(scheduler.Restart(chosen.Values.ToList(), now, EndedState), notEnded, unknown);
    }

    /// <summary>Forgets ended jobs; active ones are reported, not removed. <paramref name="onlyOwner"/>: by state, only that owner's.</summary>
    public RemoveJobsReply Remove(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states, Instant now, string? onlyOwner = null)
    {
        var terminal = (states ?? JobStateExtensions.Terminal).Where(s => s.IsTerminal()).ToList();
        List<ArrayTasks> arrays = [];
        if (ids is not null)
        {
            (var expanded, arrays) = Expand(ids); // an array's id stands for its tasks
            ids = expanded;
        }

        var found = store.Query(ids, null);
        // A cancelled job whose kill is still being confirmed has ended too; only its slot is still accounted for.
        var candidates = found.Where(j => j.State.IsTerminal() && terminal.Contains(j.State) && (onlyOwner is null || j.Owner == onlyOwner))
            .Select(j => j.Id).ToList();
        var stillActive = ids is null ? [] : found.Where(j => !j.State.IsTerminal()).Select(j => j.Id).ToList();
        var unknown = ids is null ? [] : ids.Distinct().Except(found.Select(j => j.Id)).ToList();
        var removed = candidates.Count == 0 ? [] : store.Remove(candidates);
        scheduler.Removed(removed, now);
        var removedJobs = found.ToDictionary(j => j.Id);
        foreach (var id in removed)
        {
            scheduler.Tally.JobRemoved(removedJobs[id].Queue, removedJobs[id].State);
        }

        ForgetRemovedArrays(arrays);
        return new RemoveJobsReply(removed, stillActive, unknown);
    }

    /// <summary>
    /// Dismisses ended jobs from PowerShell's job list (Remove-Job): each keeps its record and output, marked
    /// <see cref="JobInfo.Dismissed"/> (Get-Job leaves it out); active ones are reported, not changed. An array's id
    /// stands for its tasks.
    /// </summary>
    public DismissJobsReply Dismiss(IReadOnlyList<long> ids)
    {
        var (expanded, _) = Expand(ids);
        var found = store.Query(expanded, null).ToDictionary(j => j.Id);
        var dismissed = new List<long>();
        var stillActive = new List<long>();
        var unknown = new List<long>();
        foreach (var id in expanded.Distinct())
        {
            // The scheduler's own record while it holds the job (a cancel being confirmed), so its next write keeps the mark.
            var job = scheduler.GetJob(id) ?? found.GetValueOrDefault(id);
            if (job is null)
            {
                unknown.Add(id);
            }
            else if (!job.State.IsTerminal())
            {
                stillActive.Add(id);
            }
            else
            {
                if (!job.Dismissed)
                {
                    job.Dismissed = true;
                    store.Update(job.Clone());
                }

                dismissed.Add(id);
            }
        }

        return new DismissJobsReply(dismissed, stillActive, unknown);
    }

    /// <summary>
    /// The jobs a batch made, as they are now, when its id was seen before (a client sending it again after a lost
    /// reply or a server restart: it gets no duplicates); null for a new batch.
    /// </summary>
    public IReadOnlyList<JobInfo>? SeenBatch(string? batchId) =>
        batchId is not null && store.FindBatch(batchId) is { } seen ? BatchJobs(seen.FirstId, seen.Count) : null;

    /// <summary>How a job the scheduler does not hold ended, as the store has it; null when it does not exist.</summary>
    public JobState? EndedState(long id) => store.Get(id)?.State ?? ArrayRecord(id)?.State;

    /// <summary>The first dependency of a batch that names no job (a batch is taken whole or not at all); null when all exist.</summary>
    public (int Index, long Id)? MissingDependency(IReadOnlyList<JobSpec> specs)
    {
        var known = new HashSet<long>();
        for (var i = 0; i < specs.Count; i++)
        {
            foreach (var id in specs[i].DependsOn)
            {
                if (!known.Contains(id) && Job(id) is null && !scheduler.IsUnmadeTask(id))
                {
                    return (i, id);
                }

                known.Add(id);
            }
        }

        return null;
    }

    /// <summary>Of the jobs a worker runs that the scheduler does not hold, those cancelled while it was out of reach: to be stopped now.</summary>
    public IEnumerable<CancelJob> CancelledForeign(IReadOnlyList<RunningJobRef> foreign) =>
        foreign.Where(r => store.Get(r.JobId) is { State: JobState.Cancelled }).Select(r => new CancelJob(r.JobId, r.Attempt));
}
