using Goq.Protocol;

using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>
/// The end of every event (scheduling, once, by the <see cref="Dispatcher"/>; staging the changes), handing a job out
/// (the transition a match leads to), and why a job does not start, answered here in one place (<see cref="WhyWaiting"/>).
/// </summary>
public sealed partial class Scheduler
{
    private readonly RunLimits _limits = new();

    // The latest time an event brought (every public entry sets it first): stamps take its wall reading, every
    // duration (a worker's silence, the grace, how long a wide job has waited, a retry's delay) its steady one.
    private Instant _now;

    // The last worker to leave (its host, lost or stopped, when): "no worker is connected" says what happened.
    private (string Host, bool Lost, DateTimeOffset At)? _lastWorkerLeft;

    /// <summary>Scheduling is wanted: it runs once when the event ends (<see cref="EndEvent"/>), however often asked.</summary>
    private void AskForScheduling() => _dispatcher.Ask();

    /// <summary>
    /// Every public event that changes a job ends here: the scheduling it asked for runs, once (handing out a job can
    /// make an array's next task, which can ask again: then it runs again, until nothing more is asked), and the
    /// records it changed are staged in the store, as copies.
    /// </summary>
    private void EndEvent()
    {
        _dispatcher.RunIfAsked(_now, Hand);
        _jobs.StageChanges(_store);
    }

    /// <summary>Hands <paramref name="job"/> to <paramref name="worker"/>: it runs under that lease from now.</summary>
    private void Hand(WorkerEntry worker, JobInfo job)
    {
        var throttles = _waiting.ClassOf(job.Id)?.Throttles ?? JobClass.Of(job).Throttles;
        _waiting.Remove(job.Id);
        _leases.ForgetTakeBack(job.Id);
        _dispatcher.Forget(job.Id);
        var spec = _jobs.Spec(job.Id);
        _jobs.Transition(job, JobState.Running, null, _now.Wall);
        job.Attempts++;
        job.WorkerId = worker.Id;
        job.WorkerHost = worker.Host;
        _limits.Enter(job.Id, throttles);
        worker.Running.Add(job.Id, job.SlotCount);
        worker.DispatchedSeq[job.Id] = ++worker.DispatchSeq;
        if (worker.OneShot)
        {
            worker.OneShotUsed = true;
        }

        _port.Send(worker.Peer, 0, new DispatchJob(job.Id, job.Attempts, spec, worker.DispatchSeq, _epoch));
        _arrays.TaskHandedOut(job, _now.Wall);
    }

    /// <summary>
    /// Why a job waiting for a slot does not start, when something other than busy slots holds it back: no connected
    /// worker is connected at all, none serves its queue or has its labels or enough slots, its queue is at its limit,
    /// or slots are kept for it. Null when it simply waits its turn.
    /// </summary>
    public string? WhyWaiting(long id)
    {
        if (_waiting.ClassOf(id) is not { } jobClass)
        {
            return null;
        }

        if (_workers.Count == 0)
        {
            return NoWorker();
        }

        var serving = _workers.All.Where(w => !w.Stopping && w.Queues.Contains(jobClass.Queue)).ToList();
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

        if (_limits.Full(jobClass.Throttles) is { } full)
        {
            return full.StartsWith("array:", StringComparison.Ordinal)
                ? $"array {full[6..]} is at its throttle limit of {_limits.Limit(full)} running tasks"
                : $"queue '{jobClass.Queue}' is at its throttle limit of {_limits.Limit(full)} running jobs";
        }

        if (_dispatcher.KeeperOf(id) is { } keeper)
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
    private string NoWorker()
    {
        const string Hint = "Start-GoqWorker starts one";
        if (_lastWorkerLeft is var (host, lost, at))
        {
            return $"no worker is connected: the last one (on {host}) {(lost ? "was lost" : "stopped")} at {at.ToUniversalTime():u}; {Hint}";
        }

        return _grace.InGrace(_now)
            ? $"no worker is connected yet (the server started at {_grace.ServingSince.Wall.ToUniversalTime():u}; after a restart its workers come back by {(_grace.ServingSince.Wall + _grace.Grace).ToUniversalTime():u}); {Hint}"
            : $"no worker is connected: {Hint}";
    }

    /// <summary>Every queue that jobs, workers or a limit name (and the default queue), with its counts.</summary>
    public IReadOnlyList<QueueInfo> GetQueues()
    {
        var queues = new SortedDictionary<string, QueueInfo>(StringComparer.Ordinal);
        QueueInfo Of(string name) => queues.TryGetValue(name, out var q) ? q : queues[name] = new QueueInfo
        {
            Name = name,
            ThrottleLimit = _limits.Limit(RunLimits.QueueKey(name)),
            RunningJobs = _limits.Running(RunLimits.QueueKey(name)),
        };

        Of(JobSpec.DefaultQueue);
        foreach (var name in _store.Counters.QueueLimits.Keys)
        {
            Of(name);
        }

        foreach (var jobClass in _waiting.Classes)
        {
            Of(jobClass.Queue).WaitingJobs += jobClass.Jobs.Count;
        }

        foreach (var array in _arrays.Values)
        {
            var queue = Of(array.Info.Queue);
            switch (_arrays.UnmadeState(array))
            {
                case JobState.Held: queue.HeldJobs += array.Unmade; break;
                case JobState.Blocked: queue.BlockedJobs += array.Unmade; break;
                default: queue.WaitingJobs += array.Unmade; break;
            }
        }

        foreach (var id in _placement.Delayed)
        {
            Of(_jobs[id].Queue).WaitingJobs++;
        }

        foreach (var id in _jobs.Blocked)
        {
            Of(_jobs[id].Queue).BlockedJobs++;
        }

        foreach (var id in _jobs.Held)
        {
            Of(_jobs[id].Queue).HeldJobs++;
        }

        foreach (var job in _jobs.Values.Where(j => j.State == JobState.Running))
        {
            Of(job.Queue); // running jobs of a queue nothing else names (counted by the limits)
        }

        foreach (var worker in _workers.All)
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

    /// <summary>Caps how many jobs of a queue run at once (0: no cap); kept in the store. Jobs start at once if the cap rose.</summary>
    public QueueInfo SetQueueLimit(string queue, int limit, Instant now)
    {
        _now = now;
        _limits.SetLimit(RunLimits.QueueKey(queue), limit);
        _store.SetQueueLimit(queue, limit); // a 0 is kept too, so the store forgets the old cap
        AskForScheduling();
        EndEvent();
        return GetQueues().First(q => q.Name == queue);
    }
}
