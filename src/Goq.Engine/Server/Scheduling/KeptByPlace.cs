using System.Diagnostics.CodeAnalysis;
using Goq.Storage;

namespace Goq.Server.Scheduling;

/// <summary>
/// A large queue: past <see cref="SchedulerOptions.WholeWaitingJobs"/>, a plain waiting job is kept only by its place
/// in the waiting pool (id, priority, class), its record and spec left to the store. Everything else in the scheduler
/// sees whole jobs only. No event reads such a job from the store: it is read back whole in a step of its own that the server's loop
/// performs around the events (<see cref="IWaitingJobReader"/>), before a request that names it (<see cref="ReadBack"/>:
/// cancel, hold, priority), and after a turn in which the dispatcher found it at the head of its class
/// (<see cref="ReadWanted"/>, with the next ones of its class in the same batch). Until then the dispatcher hands out
/// nothing in its place (<see cref="Head"/>), so no job overtakes it.
/// </summary>
internal sealed class KeptByPlace(JobTable jobs, WaitingPool waiting, int wholeWaitingJobs)
{
    // Heads of their class the dispatcher found kept by place in this turn: read back after it.
    private readonly HashSet<long> _wanted = [];

    // Read back together: one store read for a batch of the jobs next in line, not one per dispatch.
    private const int Batch = 256;

    /// <summary>Waiting jobs in the pool that are not held whole.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the scheduler holds the job: whole, or by its place in the queue.</summary>
    public bool Holds(long id) => jobs.ContainsKey(id) || waiting.Contains(id);

    /// <summary>The job whole, if the scheduler holds it whole (one kept by place is read back before the event: <see cref="ReadBack"/>).</summary>
    public bool TryWhole(long id, [NotNullWhen(true)] out JobInfo? job) => jobs.TryGetValue(id, out job);

    /// <summary>The head of a class, whole, about to be handed out; null when it is kept by place (it is then read back after the turn).</summary>
    public JobInfo? Head(long id)
    {
        if (jobs.TryGetValue(id, out var job))
        {
            return job;
        }

        if (waiting.Contains(id))
        {
            _wanted.Add(id);
        }

        return null;
    }

    /// <summary>Whether a head found kept by place waits to be read back (<see cref="ReadWanted"/>).</summary>
    public bool Wanted => _wanted.Count > 0;

    /// <summary>
    /// The read step before a request that names jobs: those of <paramref name="ids"/> kept by place are read back whole,
    /// in batches. The caller names a bounded number at a time (a million named jobs are read a few thousand at a time).
    /// </summary>
    public void ReadBack(IWaitingJobReader reader, IEnumerable<long> ids)
    {
        if (Count == 0)
        {
            return;
        }

        foreach (var batch in ids.Where(id => !jobs.ContainsKey(id) && waiting.Contains(id)).Distinct().Chunk(4 * Batch))
        {
            Read(reader, [.. batch]);
        }
    }

    /// <summary>
    /// The read step after a turn: each head the dispatcher found kept by place is read back whole, with the jobs after
    /// it in its class. False when there was none to read.
    /// </summary>
    public bool ReadWanted(IWaitingJobReader reader)
    {
        if (_wanted.Count == 0)
        {
            return false;
        }

        foreach (var id in _wanted.ToList())
        {
            var batch = new List<long> { id };
            if (waiting.ClassOf(id) is { } jobClass)
            {
                // The walk is bounded: whole jobs between kept ones are passed over, at most a few batches' worth.
                batch.AddRange(jobClass.Jobs.InOrder().Take(4 * Batch).Where(i => i != id && !jobs.ContainsKey(i)).Take(Batch - 1));
            }

            Read(reader, batch);
        }

        _wanted.Clear();
        return true;
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

    private void Read(IWaitingJobReader reader, List<long> ids)
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
