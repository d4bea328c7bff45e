namespace Goq.Server.Scheduling;

/// <summary>How many active jobs each queue has in each state: the metrics' <c>goq_jobs{state,queue}</c> for the jobs it holds.</summary>
public sealed partial class Scheduler
{
    /// <summary>
    /// The active jobs by queue and state (waiting, running, blocked, held), their sums the totals <see cref="WaitingJobs"/>
    /// and the others give. It costs a look at each class of waiting jobs, each running, blocked, held or delayed job and
    /// each array, never one per waiting job: a million waiting jobs of a few kinds are counted in a few steps.
    /// </summary>
    public IReadOnlyDictionary<(string Queue, JobState State), long> CountActive()
    {
        var counts = new Dictionary<(string Queue, JobState State), long>();
        void Add(string queue, JobState state, long count)
        {
            if (count != 0)
            {
                counts[(queue, state)] = counts.GetValueOrDefault((queue, state)) + count;
            }
        }

        foreach (var jobClass in _waiting.Classes)
        {
            Add(jobClass.Queue, JobState.Waiting, jobClass.Jobs.Count);
        }

        foreach (var (ids, state) in new (IReadOnlyCollection<long>, JobState)[] { (_placement.Delayed, JobState.Waiting), (_jobs.Blocked, JobState.Blocked), (_jobs.Held, JobState.Held) })
        {
            foreach (var id in ids)
            {
                Add(_jobs.GetValueOrDefault(id)?.Queue ?? JobSpec.DefaultQueue, state, 1);
            }
        }

        foreach (var array in _arrays.Values.Where(a => a.Unmade > 0))
        {
            Add(array.Info.Queue, _arrays.UnmadeState(array), array.Unmade);
        }

        // Running: what each worker holds, and what ran before a restart and is not claimed yet.
        var running = 0;
        foreach (var id in _workers.All.SelectMany(w => w.Running).Concat(_grace.Orphans).Distinct())
        {
            if (_jobs.TryGetValue(id, out var job) && job.State == JobState.Running)
            {
                Add(job.Queue, JobState.Running, 1);
                running++;
            }
        }

        // Anything the walk above did not reach still counts, under the default queue, so the sums stay the totals.
        Add(JobSpec.DefaultQueue, JobState.Running, RunningJobs - running);
        return counts;
    }
}
