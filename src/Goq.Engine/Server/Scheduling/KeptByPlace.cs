using System.Diagnostics.CodeAnalysis;
using Goq.Storage;

namespace Goq.Server.Scheduling;

/// <summary>
/// A large queue: past <see cref="SchedulerOptions.WholeWaitingJobs"/>, a plain waiting job is kept only by its place
/// in the waiting pool (id, priority, class), its record and spec left to the store. It is read back whole, with the
/// next ones of its class in one batch, when it reaches the head of its class, and alone when a user names it (cancel,
/// hold, priority). Everything else in the scheduler sees whole jobs only: a job leaves its place solely through here,
/// and this is the only part of the scheduler that reads the store (<see cref="IWaitingJobReader"/>).
/// </summary>
internal sealed class KeptByPlace(JobTable jobs, WaitingPool waiting, IWaitingJobReader reader, int wholeWaitingJobs)
{
    // Read back together: one store read for a batch of the jobs next in line, not one per dispatch.
    private const int Batch = 256;

    /// <summary>Waiting jobs in the pool that are not held whole.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the scheduler holds the job: whole, or by its place in the queue.</summary>
    public bool Holds(long id) => jobs.ContainsKey(id) || waiting.Contains(id);

    /// <summary>The job whole (read back from the store if it was kept by place), if the scheduler holds it.</summary>
    public bool TryWhole(long id, [NotNullWhen(true)] out JobInfo? job)
    {
        if (jobs.TryGetValue(id, out job))
        {
            return true;
        }

        if (!waiting.Contains(id))
        {
            return false;
        }

        Read([id]);
        return jobs.TryGetValue(id, out job);
    }

    /// <summary>
    /// The ids a user named, in order; each kept by place is read back whole before its turn, with the next such ones
    /// in the same batch, so naming a million waiting jobs (Stop-GoqJob) costs a store read per thousand, not per job.
    /// </summary>
    public IEnumerable<long> ReadAhead(IReadOnlyList<long> ids)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (Count > 0 && !jobs.ContainsKey(ids[i]) && waiting.Contains(ids[i]))
            {
                var batch = new List<long>();
                for (var j = i; j < ids.Count && batch.Count < 4 * Batch; j++)
                {
                    if (!jobs.ContainsKey(ids[j]) && waiting.Contains(ids[j]))
                    {
                        batch.Add(ids[j]);
                    }
                }

                Read(batch);
            }

            yield return ids[i];
        }
    }

    /// <summary>The head of a class, whole, about to be handed out: read back with the jobs after it in its class.</summary>
    public JobInfo? Head(long id)
    {
        if (jobs.TryGetValue(id, out var job))
        {
            return job;
        }

        var batch = new List<long> { id };
        if (waiting.ClassOf(id) is { } jobClass)
        {
            // The walk is bounded: whole jobs between kept ones are passed over, at most a few batches' worth.
            batch.AddRange(jobClass.Jobs.InOrder().Take(4 * Batch).Where(i => i != id && !jobs.ContainsKey(i)).Take(Batch - 1));
        }

        Read(batch);
        return jobs.GetValueOrDefault(id);
    }

    /// <summary>A job just placed in the pool is kept by place when enough are whole (staged in the store already).</summary>
    public void Keep(JobInfo job)
    {
        if (waiting.Count - Count > wholeWaitingJobs && WaitingPlace.IsPlain(job) && waiting.Contains(job.Id))
        {
            jobs.Remove(job.Id, out _);
            Count++;
        }
    }

    /// <summary>After a restart: a job by its place, as the store gave it, in the queue since <paramref name="since"/>.</summary>
    public void Add(WaitingPlace place, TimeSpan since)
    {
        waiting.Add(new JobInfo { Id = place.Id, Priority = place.Priority, Queue = place.Queue, SlotCount = place.SlotCount, Require = place.Require }, since);
        Count++;
    }

    private void Read(List<long> ids)
    {
        foreach (var (job, spec) in reader.LoadJobs(ids))
        {
            if (waiting.Contains(job.Id) && jobs.Add(job, spec))
            {
                Count--;
            }
        }

        foreach (var id in ids)
        {
            // Never expected: a place whose job the store does not hold. It leaves the queue rather than block it.
            if (!jobs.ContainsKey(id) && waiting.Remove(id))
            {
                Count--;
            }
        }
    }
}
