using Goq.Protocol;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>
/// The scheduler's read side: the counts, the queues, why a job waits, the workers, a job's record while it is held.
/// Nothing here changes state.
/// </summary>
internal sealed class SchedulerQueries(SchedulerParts parts, WorkerEvents workers)
{
    /// <summary>Jobs Running: every job held whole that is neither waiting (queued or for its time), blocked nor held.</summary>
    public int RunningJobs => parts.Jobs.Count - (parts.Waiting.Count - parts.Places.Count) - parts.Placement.Delayed.Count - parts.Jobs.Blocked.Count
        - parts.Jobs.Held.Count;

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

        foreach (var jobClass in parts.Waiting.Classes)
        {
            Add(jobClass.Queue, JobState.Waiting, jobClass.Jobs.Count);
        }

        foreach (var (ids, state) in new (IReadOnlyCollection<long>, JobState)[] { (parts.Placement.Delayed, JobState.Waiting), (parts.Jobs.Blocked, JobState.Blocked), (parts.Jobs.Held, JobState.Held) })
        {
            foreach (var id in ids)
            {
                Add(parts.Jobs.GetValueOrDefault(id)?.Queue ?? JobSpec.DefaultQueue, state, 1);
            }
        }

        foreach (var array in parts.Arrays.Values.Where(a => a.Unmade > 0))
        {
            Add(array.Info.Queue, parts.Arrays.UnmadeState(array), array.Unmade);
        }

        // Running: what each worker holds, and what ran before a restart and is not claimed yet.
        var running = 0;
        foreach (var id in parts.Workers.All.SelectMany(w => w.Running).Concat(parts.Grace.Orphans).Distinct())
        {
            if (parts.Jobs.TryGetValue(id, out var job) && job.State == JobState.Running)
            {
                Add(job.Queue, JobState.Running, 1);
                running++;
            }
        }

        // Anything the walk above did not reach still counts, under the default queue, so the sums stay the totals.
        Add(JobSpec.DefaultQueue, JobState.Running, RunningJobs - running);
        return counts;
    }

    /// <summary>
    /// Why a job waiting for a slot does not start, when something other than busy slots holds it back: no connected
    /// worker is connected at all, none serves its queue or has its labels or enough slots, its queue is at its limit,
    /// or slots are kept for it. Null when it simply waits its turn.
    /// </summary>
    public string? WhyWaiting(long id)
    {
        if (parts.Waiting.ClassOf(id) is not { } jobClass)
        {
            return null;
        }

        if (parts.Workers.Count == 0)
        {
            return NoWorker();
        }

        var serving = parts.Workers.All.Where(w => !w.Stopping && w.Queues.Contains(jobClass.Queue)).ToList();
        if (serving.Count == 0)
        {
            return $"no connected worker serves queue '{jobClass.Queue}'";
        }

        if (jobClass.Require.Where(label => !serving.Any(w => w.Labels.Contains(label))).ToList() is { Count: > 0 } missing)
        {
            return $"no worker {(jobClass.Queue == JobSpec.DefaultQueue ? "" : $"serving queue '{jobClass.Queue}' ")}has label {string.Join(", ", missing)}";
        }

        var able = serving.Where(w => jobClass.Require.All(w.Labels.Contains)).ToList();
        if (able.Count == 0)
        {
            return $"no worker has every label of {string.Join(", ", jobClass.Require)}";
        }

        if (able.Max(w => w.Slots) is var largest && largest < jobClass.SlotCount)
        {
            return $"needs {jobClass.SlotCount} slots; the largest worker that could run it has {largest}";
        }

        if (parts.Limits.Full(jobClass.Throttles) is { } full)
        {
            return full.StartsWith("array:", StringComparison.Ordinal)
                ? $"array {full[6..]} is at its throttle limit of {parts.Limits.Limit(full)} running tasks"
                : $"queue '{jobClass.Queue}' is at its throttle limit of {parts.Limits.Limit(full)} running jobs";
        }

        if (parts.Dispatcher.KeeperOf(id) is { } keeper)
        {
            return $"worker {keeper.Host}/{keeper.Id[..Math.Min(8, keeper.Id.Length)]} keeps its slots for it ({keeper.FreeSlots} of {jobClass.SlotCount} free)";
        }

        return jobClass.SlotCount > 1 && able.All(w => w.FreeSlots < jobClass.SlotCount)
            ? $"waiting for {jobClass.SlotCount} free slots on one worker"
            : null;
    }

    /// <summary>
    /// Why nothing runs when no worker is connected: the last one left (lost or stopped), or the server started moments
    /// ago and its workers have the restart grace to come back, or none ever came (the newcomer's case).
    /// </summary>
    public string NoWorker()
    {
        const string Hint = "Start-GoqWorker starts one";
        if (workers.LastWorkerLeft is var (host, lost, at))
        {
            return $"no worker is connected: the last one (on {host}) {(lost ? "was lost" : "stopped")} at {at.ToUniversalTime():u}; {Hint}";
        }

        return parts.Grace.InGrace(parts.Now)
            ? $"no worker is connected yet (the server started at {parts.Grace.ServingSince.Wall.ToUniversalTime():u}; after a restart its workers come back by {(parts.Grace.ServingSince.Wall + parts.Grace.Grace).ToUniversalTime():u}); {Hint}"
            : $"no worker is connected: {Hint}";
    }

    /// <summary>Every queue that jobs, workers or a limit name (and the default queue), with its counts.</summary>
    public IReadOnlyList<QueueInfo> GetQueues()
    {
        var queues = new SortedDictionary<string, QueueInfo>(StringComparer.Ordinal);
        QueueInfo Of(string name) => queues.TryGetValue(name, out var q) ? q : queues[name] = new QueueInfo
        {
            Name = name,
            ThrottleLimit = parts.Limits.Limit(RunLimits.QueueKey(name)),
            RunningJobs = parts.Limits.Running(RunLimits.QueueKey(name)),
        };

        Of(JobSpec.DefaultQueue);
        foreach (var name in parts.Store.Counters.QueueLimits.Keys)
        {
            Of(name);
        }

        foreach (var jobClass in parts.Waiting.Classes)
        {
            Of(jobClass.Queue).WaitingJobs += jobClass.Jobs.Count;
        }

        foreach (var array in parts.Arrays.Values)
        {
            var queue = Of(array.Info.Queue);
            switch (parts.Arrays.UnmadeState(array))
            {
                case JobState.Held: queue.HeldJobs += array.Unmade; break;
                case JobState.Blocked: queue.BlockedJobs += array.Unmade; break;
                default: queue.WaitingJobs += array.Unmade; break;
            }
        }

        foreach (var id in parts.Placement.Delayed)
        {
            Of(parts.Jobs[id].Queue).WaitingJobs++;
        }

        foreach (var id in parts.Jobs.Blocked)
        {
            Of(parts.Jobs[id].Queue).BlockedJobs++;
        }

        foreach (var id in parts.Jobs.Held)
        {
            Of(parts.Jobs[id].Queue).HeldJobs++;
        }

        foreach (var job in parts.Jobs.Values.Where(j => j.State == JobState.Running))
        {
            Of(job.Queue); // running jobs of a queue nothing else names (counted by the limits)
        }

        foreach (var worker in parts.Workers.All)
        {
            foreach (var name in worker.Queues)
            {
                var queue = Of(name);
                queue.Workers++;
                queue.Slots += worker.Slots;
            }
        }

        return queues.Values.ToList();
    }

    /// <summary>The scheduler's own record of a job it holds (waiting, running, or cancelled with its kill under way), else null.</summary>
    public JobInfo? GetJob(long id) => parts.Jobs.GetValueOrDefault(id) ?? (parts.Leases.IsKilling(id, out var killing) ? killing : null);

    /// <summary>Where each connected worker is reached.</summary>
    public IEnumerable<PeerId> WorkerPeers => parts.Workers.All.Select(w => w.Peer).ToList();

    public IReadOnlyList<WorkerInfo> GetWorkers() =>
        parts.Workers.All.OrderBy(w => w.ConnectedAt).Select(w => w.ToInfo()).ToList();

    /// <summary>The jobs a dispatch among <paramref name="effects"/> hands out, as this scheduler holds them now.</summary>
    public IEnumerable<JobInfo> Dispatched(IEnumerable<SchedulerEffect> effects) =>
        effects.Select(e => e.Message).OfType<DispatchJob>().Select(d => parts.Jobs.GetValueOrDefault(d.JobId)).OfType<JobInfo>();
}
