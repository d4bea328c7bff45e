using System.Diagnostics.CodeAnalysis;
using Goq.Storage;

namespace Goq.Server.Scheduling;

/// <summary>
/// A large queue: past <see cref="SchedulerOptions.WholeWaitingJobs"/>, a plain waiting job is kept only by its place
/// in the waiting pool (id, priority, class), its record and spec left to the store. It is read back whole, with the
/// next ones of its class in one batch, when it reaches the head of its class, and alone when a user names it (cancel,
/// hold, priority). Everything else in the scheduler sees whole jobs only: a job leaves its place solely through here.
/// </summary>
public sealed partial class Scheduler
{
    // Read back together: one store read for a batch of the jobs next in line, not one per dispatch.
    private const int WarmBatch = 256;

    // Waiting jobs in the pool that are not in _jobs (kept by place).
    private int _byPlace;

    /// <summary>Waiting jobs kept by their place alone, their records in the store.</summary>
    public int JobsKeptByPlace => _byPlace;

    /// <summary>Whether this scheduler holds the job: whole, or by its place in the queue.</summary>
    private bool IsActive(long id) => _jobs.ContainsKey(id) || _waiting.Contains(id);

    /// <summary>The job whole (read back from the store if it was kept by place), if this scheduler holds it.</summary>
    private bool TryActive(long id, [NotNullWhen(true)] out JobInfo? job)
    {
        if (_jobs.TryGetValue(id, out job))
        {
            return true;
        }

        if (!_waiting.Contains(id))
        {
            return false;
        }

        Warm([id]);
        return _jobs.TryGetValue(id, out job);
    }

    /// <summary>
    /// The ids a user named, in order; each kept by place is read back whole before its turn, with the next such ones
    /// in the same batch, so naming a million waiting jobs (Stop-GoqJob) costs a store read per thousand, not per job.
    /// </summary>
    private IEnumerable<long> WarmedAhead(IReadOnlyList<long> ids)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (_byPlace > 0 && !_jobs.ContainsKey(ids[i]) && _waiting.Contains(ids[i]))
            {
                var batch = new List<long>();
                for (var j = i; j < ids.Count && batch.Count < 4 * WarmBatch; j++)
                {
                    if (!_jobs.ContainsKey(ids[j]) && _waiting.Contains(ids[j]))
                    {
                        batch.Add(ids[j]);
                    }
                }

                Warm(batch);
            }

            yield return ids[i];
        }
    }

    /// <summary>The head of a class, whole, about to be handed out: read back with the jobs after it in its class.</summary>
    private JobInfo? Head(long id)
    {
        if (_jobs.TryGetValue(id, out var job))
        {
            return job;
        }

        var batch = new List<long> { id };
        if (_waiting.ClassOf(id) is { } jobClass)
        {
            // The walk is bounded: whole jobs between kept ones are passed over, at most a few batches' worth.
            batch.AddRange(jobClass.Jobs.InOrder().Take(4 * WarmBatch).Where(i => i != id && !_jobs.ContainsKey(i)).Take(WarmBatch - 1));
        }

        Warm(batch);
        return _jobs.GetValueOrDefault(id);
    }

    /// <summary>A job just placed in the pool is kept by place when enough are whole (staged in the store already).</summary>
    private void KeepByPlace(JobInfo job)
    {
        if (_waiting.Count - _byPlace > _options.WholeWaitingJobs && WaitingPlace.IsPlain(job) && _waiting.Contains(job.Id))
        {
            _jobs.Remove(job.Id, out _);
            _byPlace++;
        }
    }

    /// <summary>After a restart: a job by its place, as the store gave it.</summary>
    private void PlaceOnly(WaitingPlace place, DateTimeOffset now)
    {
        _waiting.Add(new JobInfo { Id = place.Id, Priority = place.Priority, Queue = place.Queue, SlotCount = place.SlotCount, Require = place.Require }, _now.Steady);
        _byPlace++;
    }

    private void Warm(List<long> ids)
    {
        foreach (var (job, spec) in _store.LoadJobs(ids))
        {
            if (_waiting.Contains(job.Id) && _jobs.Add(job, spec))
            {
                _byPlace--;
            }
        }

        foreach (var id in ids)
        {
            // Never expected: a place whose job the store does not hold. It leaves the queue rather than block it.
            if (!_jobs.ContainsKey(id) && _waiting.Remove(id))
            {
                _byPlace--;
            }
        }
    }
}
