using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// Which waiting job goes to which worker, run once per event when something asked for it (<see cref="Ask"/>, as
/// HyperQueue's <c>ask_for_scheduling</c>). A worker takes the best job (priority, then first come first served) of
/// those it can run: it serves the job's queue, has every label the job requires and enough free slots, and the job's
/// queue is under its throttle limit. Workers with free slots come first, then those that take jobs ahead (prefetch),
/// and each goes to the back of its line once it took one. A job too wide for any free slots lets narrower ones behind
/// it run (backfill) until it has waited <see cref="SchedulerOptions.KeepSlotsAfter"/>; then one worker that could run
/// it keeps its slots for it. Owns the asking and the kept slots; handing a job out is the scheduler's (a transition).
/// </summary>
internal sealed class Dispatcher(WaitingPool waiting, WorkerPool workers, RunLimits limits, KeptByPlace places, SchedulerOptions options)
{
    // Wide jobs that have a worker keeping its slots for them, and that worker.
    private readonly Dictionary<long, WorkerEntry> _keptBy = new();

    private bool _asked;

    /// <summary>Scheduling is wanted: it runs once when the event ends, however often asked.</summary>
    public void Ask() => _asked = true;

    /// <summary>
    /// Hands waiting jobs to workers (through <paramref name="hand"/>) until no worker can take any of them, and again if
    /// handing out asked for more. Nothing happens unless scheduling was asked for. (An array's next task, made as its
    /// frontier is handed out, is simply in the queue for the same run.)
    /// </summary>
    public void RunIfAsked(Instant now, Action<WorkerEntry, JobInfo> hand)
    {
        while (_asked)
        {
            _asked = false;
            Run(now, hand);
        }
    }

    /// <summary>The worker keeping its slots for job <paramref name="id"/>, if one does.</summary>
    public WorkerEntry? KeeperOf(long id) => _keptBy.TryGetValue(id, out var keeper) && keeper.KeptFor == id ? keeper : null;

    /// <summary>The worker keeps its slots for no job any more (it leaves, stops, or the job no longer fits it).</summary>
    public void Unkeep(WorkerEntry worker)
    {
        if (worker.KeptFor is { } kept && _keptBy.TryGetValue(kept, out var keeper) && keeper == worker)
        {
            _keptBy.Remove(kept);
        }

        worker.KeptFor = null;
    }

    /// <summary>The job no longer waits (handed out, taken back, or it left): slots kept for it are free again.</summary>
    public void Forget(long jobId)
    {
        if (_keptBy.Remove(jobId, out var keeper))
        {
            keeper.KeptFor = null;
        }
    }

    private void Run(Instant now, Action<WorkerEntry, JobInfo> hand)
    {
        // A worker that found nothing to take finds nothing later in the same call either: jobs only leave the pool
        // and limits only fill within it. So each is asked at most once for nothing.
        HashSet<WorkerEntry>? nothing = null;
        while (waiting.Count > 0 && NextMatch(now, ref nothing) is var (worker, job) && worker is not null)
        {
            hand(worker, job!);
            workers.Took(worker); // round robin: a worker with room left goes to the back of its line
        }
    }

    /// <summary>The first worker in line (free slots first, then those that take jobs ahead) with a job it can take.</summary>
    private (WorkerEntry? Worker, JobInfo? Job) NextMatch(Instant now, ref HashSet<WorkerEntry>? nothing)
    {
        foreach (var ahead in (ReadOnlySpan<bool>)[false, true])
        {
            foreach (var worker in workers.Line(ahead))
            {
                if (nothing?.Contains(worker) == true)
                {
                    continue;
                }

                if (Pick(worker, ahead, now) is { } job)
                {
                    return (worker, job);
                }

                (nothing ??= []).Add(worker);
            }
        }

        return (null, null);
    }

    /// <summary>The job <paramref name="worker"/> takes now, or null (nothing it can run, or its slots are kept).</summary>
    private JobInfo? Pick(WorkerEntry worker, bool ahead, Instant now)
    {
        if (worker.KeptFor is { } kept)
        {
            if (waiting.ClassOf(kept) is { } keptClass && keptClass.Fits(worker))
            {
                return !ahead && keptClass.SlotCount <= worker.FreeSlots && limits.Full(keptClass.Throttles) is null ? places.Head(kept) : null;
            }

            Unkeep(worker);
        }

        // Few classes (kinds of jobs), however many jobs: the best head among those this worker can run.
        (int Priority, long Seq, long Id) best = default;
        JobClass? bestClass = null;
        List<(JobClass Class, (int, long, long) Head)>? tooWide = null;
        foreach (var jobClass in waiting.Classes)
        {
            if (!jobClass.Fits(worker) || limits.Full(jobClass.Throttles) is not null || jobClass.Jobs.Head is not { } head)
            {
                continue;
            }

            var fitsNow = ahead ? jobClass.SlotCount == 1 : jobClass.SlotCount <= worker.FreeSlots;
            if (!fitsNow)
            {
                (tooWide ??= []).Add((jobClass, head));
                continue;
            }

            if (bestClass is null || WaitingPool.Compare(head, best) < 0)
            {
                (best, bestClass) = (head, jobClass);
            }
        }

        // A wide job ahead of the best one that has waited too long: this worker keeps its slots for it instead.
        if (!ahead && tooWide is not null)
        {
            foreach (var (jobClass, head) in tooWide.OrderBy(t => t.Head, Comparer<(int, long, long)>.Create(WaitingPool.Compare)))
            {
                if (bestClass is not null && WaitingPool.Compare(head, best) > 0)
                {
                    break;
                }

                if (!_keptBy.ContainsKey(head.Item3) && now.Steady - (waiting.Since(head.Item3) ?? now.Steady) >= options.KeepSlotsAfter)
                {
                    worker.KeptFor = head.Item3;
                    _keptBy[head.Item3] = worker;
                    return null;
                }
            }
        }

        return bestClass is null ? null : places.Head(best.Id);
    }
}
