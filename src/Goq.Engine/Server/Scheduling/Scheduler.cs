using Goq.Protocol;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Server.Scheduling;

// Over 400 lines (and the class over its partial files): the scheduler is one state machine whose transitions share
// its state. The job table (JobTable) and the way out (ISchedulerPort) are types of their own; issue 27 goes on to split
// the rest into types that own their state (matching, workers and leases, dependencies, arrays, reruns, the grace).
/// <summary>
/// The queue as a pure state machine: events in, state changes (staged in the store's memory) and effects (messages
/// to send) out. No sockets, no files, no clock of its own, and one kind of read of the store: the active jobs and
/// their specs are held here, except that past <see cref="SchedulerOptions.WholeWaitingJobs"/> a waiting job is held by
/// its place alone and read back, in batches, as it nears the head (<see cref="KeptByPlace"/>); whatever concerns
/// ended jobs the server answers from the store itself (<see cref="JobQueries"/>).
/// Owned by exactly one thread, the server's poller.
/// Dispatch is FIFO to idle worker slots the moment both exist; workers with free slots take turns. With no slot
/// free, a worker that takes jobs ahead (its Prefetch) is handed the next ones, which it starts as its slots free.
/// Why one class over many files: it is the one owner of the queue's state, and every event touches several policies
/// at once. Each file holds one concern (submit and workers here; placement, matching, dependencies, arrays, reruns,
/// endings, reports, queries), and each policy's rules live in a small type of its own that it consults
/// (<see cref="WaitingPool"/>, <see cref="RunLimits"/>, <see cref="ReleaseTimers"/>, <see cref="DependencyGraph"/>,
/// <see cref="ArrayJob"/>, <see cref="WorkerPool"/>), each unit-tested alone.
/// </summary>
public sealed partial class Scheduler
{
    private readonly IJobStaging _store;
    private readonly SchedulerOptions _options;
    private readonly WaitingPool _waiting = new();
    private readonly RestartGrace _grace;
    private readonly Leases _leases;
    private readonly JobPlacement _placement;
    private readonly KeptByPlace _places;
    private readonly Dispatcher _dispatcher;
    private readonly ArrayJobs _arrays;

    // Names this server run, so dispatch numbers from a run before a restart are never mistaken for ours.
    private readonly string _epoch = Guid.NewGuid().ToString("N");
    private readonly JobTable _jobs = new();
    private readonly WorkerPool _workers = new();
    private readonly WatchRegistry _watches = new();
    private readonly ISchedulerPort _port;
    private readonly DependencyGraph _dependencies = new();

    /// <summary>Ended jobs by queue and state, and the counts since start: what the metrics read (see <see cref="JobTally"/>).</summary>
    public JobTally Tally { get; } = new();

    /// <summary>A scheduler for a store, with the active jobs it holds (read once, here, before the first turn).</summary>
    public Scheduler(IJobStore store, ISchedulerPort port, Instant now, SchedulerOptions? options = null)
        : this(store, port, store.LoadActive((options ?? new SchedulerOptions()).WholeWaitingJobs), options, now)
    {
    }

    private Scheduler(IJobStore store, ISchedulerPort port, (IReadOnlyList<(JobInfo Job, JobSpec Spec)> Whole, IReadOnlyList<WaitingPlace> Places) active,
        SchedulerOptions? options, Instant now)
        : this(store, port, active.Whole, now, options, id => store.Get(id)?.State ?? store.GetArray(id)?.Array.State, store.LoadActiveArrays(), active.Places)
    {
    }

    /// <summary>
    /// A scheduler that stages its changes in <paramref name="staging"/>, starting with the active jobs given.
    /// <paramref name="endedState"/> says how a job that is not among them ended (null: unknown); it is asked here only,
    /// for the dependencies of blocked jobs.
    /// </summary>
    public Scheduler(IJobStaging staging, ISchedulerPort port, IEnumerable<(JobInfo Job, JobSpec Spec)> active, Instant now, SchedulerOptions? options = null,
        Func<long, JobState?>? endedState = null, IEnumerable<(JobInfo Array, JobSpec Spec, IReadOnlyList<(long Id, JobState State)> Tasks)>? arrays = null,
        IEnumerable<WaitingPlace>? places = null)
    {
        _endedState = endedState ?? (_ => null);
        _store = staging;
        _port = port;
        _options = options ?? new SchedulerOptions();
        _now = now;
        _grace = new RestartGrace(_options.RestartGrace, now);
        _leases = new Leases(_jobs);
        _placement = new JobPlacement(_jobs, _waiting, _dependencies);
        _places = new KeptByPlace(_jobs, _waiting, _options.WholeWaitingJobs);
        _dispatcher = new Dispatcher(_waiting, _workers, _limits, _places, _options);
        _arrays = new ArrayJobs(_jobs, staging, _limits, (job, at) => Admit(job, _endedState, at), End);
        foreach (var (queue, limit) in staging.Counters.QueueLimits)
        {
            _limits.SetLimit(RunLimits.QueueKey(queue), limit);
        }

        // Arrays first: a job that depends on one waits for it.
        foreach (var (array, spec, tasks) in arrays ?? [])
        {
            _arrays.Load(array, spec, tasks);
        }

        var notStarted = new List<JobInfo>();
        foreach (var (job, spec) in active)
        {
            _jobs.Add(job, spec);
            if (job.State == JobState.Running)
            {
                // Restart: a running job stays its worker's for a grace period; a worker that re-announces it keeps it.
                _grace.Orphaned(job.Id);
                _limits.Enter(job.Id, JobClass.Of(job).Throttles);
            }
            else
            {
                notStarted.Add(job);
            }
        }

        foreach (var place in places ?? [])
        {
            _places.Add(place, _now.Steady);
        }

        // Placed once every active job is known, so a dependency on one of them counts as not ended.
        foreach (var job in notStarted)
        {
            Admit(job, endedState ?? (_ => null), _now.Wall);
        }

        foreach (var array in _arrays.Values.ToList())
        {
            _arrays.Resume(array, _now.Wall);
        }

        _jobs.StageChanges(staging);
    }

    /// <summary>Jobs Waiting: in the queue for a slot, or for their -NotBefore time (array tasks not made yet included).</summary>
    public int WaitingJobs => _waiting.Count + _placement.Delayed.Count + _arrays.UnmadeIn(JobState.Waiting);

    public int BlockedJobs => _jobs.Blocked.Count + _arrays.UnmadeIn(JobState.Blocked);

    public int RunningJobs => _jobs.Count - (_waiting.Count - _places.Count) - _placement.Delayed.Count - _jobs.Blocked.Count - _jobs.Held.Count;

    public long DeadWorkerResubmits => _store.Counters.DeadWorkerResubmits;

    public int IdleSlots => _workers.IdleSlots;

    public int WorkerCount => _workers.Count;

    public int WatchedJobs => _watches.Count;

    /// <summary>Waiting jobs kept by their place alone, their records in the store.</summary>
    public int JobsKeptByPlace => _places.Count;

    /// <summary>Names this server run: a worker's hello that carries it was sent after the worker heard from this run.</summary>
    public string Epoch => _epoch;

    /// <summary>Jobs found running at start-up whose worker has not announced itself yet.</summary>
    public int OrphanedJobs => _grace.Orphans.Count;

    /// <summary>
    /// The server listens from <paramref name="now"/>: the restart grace counts from here, not from when the store was
    /// read, so a slow start (a long queue to load, a busy host) does not eat the time workers have to come back.
    /// </summary>
    public void Serving(Instant now)
    {
        _now = now;
        _grace.Serving(now);
    }

    /// <summary>The jobs a dispatch among <paramref name="effects"/> hands out, as this scheduler holds them now.</summary>
    public IEnumerable<JobInfo> Dispatched(IEnumerable<SchedulerEffect> effects) =>
        effects.Select(e => e.Message).OfType<DispatchJob>().Select(d => _jobs.GetValueOrDefault(d.JobId)).OfType<JobInfo>();

    /// <summary>
    /// Queues a batch, in order, recording its <paramref name="batchId"/> with it. (A batch id seen before is the
    /// server's to answer, from the store: see <see cref="JobQueries.SeenBatch"/>; idempotent submit.)
    /// </summary>
    /// <param name="endedState">How a job this scheduler does not hold ended (null: unknown): the server's answer, from
    /// the store, for the jobs the batch depends on.</param>
    public IReadOnlyList<JobInfo> Submit(IReadOnlyList<JobSpec> specs, Instant instant, string? batchId = null, Func<long, JobState?>? endedState = null)
    {
        _now = instant;
        var now = instant.Wall;
        _endedState = endedState ?? _endedState;

        // An array takes an id for itself and one for each of its tasks, right after it.
        var count = specs.Sum(s => 1L + (s.ArrayIndex?.Count ?? 0));
        var first = _store.AllocateIds(checked((int)count));
        if (batchId is not null)
        {
            _store.RecordBatch(batchId, first, (int)count, now); // every id it took: the server answers a resend from them
        }

        var jobs = new List<JobInfo>(specs.Count);
        var id = first;
        Tally.Submitted += specs.Sum(s => s.ArrayIndex?.Count ?? 1); // an array's tasks are the jobs it submits
        foreach (var spec in specs)
        {
            if (spec.ArrayIndex is { } indices)
            {
                jobs.Add(_arrays.Submit(id, spec, now));
                id += 1 + indices.Count;
                continue;
            }

            var job = NewJob(id++, spec, now);
            _store.Insert(job.Clone(), spec);
            _jobs.Add(job, spec);
            jobs.Add(job);
            Admit(job, endedState ?? (_ => null), now);
            _places.Keep(job);
        }

        AskForScheduling();
        EndEvent();
        return jobs;
    }

    internal static JobInfo NewJob(long id, JobSpec spec, DateTimeOffset now) => new()
    {
        Id = id,
        Name = spec.Name,
        State = JobState.Waiting,
        Kind = spec.Kind,
        Command = spec.Command,
        ArgumentList = [.. spec.ArgumentList],
        WorkingDirectory = spec.WorkingDirectory,
        SubmittedAt = now,
        SubmittedBy = spec.SubmittedBy,
        Priority = spec.Priority,
        Queue = spec.Queue,
        SlotCount = spec.SlotCount,
        Require = [.. spec.Require],
        DependsOn = [.. spec.DependsOn.Distinct()],
        DependencyMode = spec.DependencyMode,
        Hold = spec.Hold,
        NotBefore = spec.NotBefore,
    };

    /// <summary>
    /// A worker announced itself (on connect and as its heartbeat). Says whether it was new, and which of the jobs it
    /// listed this server does not hold: the server looks those up (one cancelled while the worker was out of reach
    /// is stopped now).
    /// </summary>
    public WorkerHelloOutcome WorkerHello(PeerId peer, WorkerHello hello, Instant instant)
    {
        _now = instant;
        var now = instant.Wall;
        var isNew = !_workers.TryGet(hello.WorkerId, out var worker);
        if (isNew)
        {
            worker = new WorkerEntry(hello.WorkerId, peer) { ConnectedAt = now, PrefetchHorizonMs = _options.PrefetchHorizon.TotalMilliseconds };
            _workers.Add(worker);
        }

        // Back on another connection (a new relay): dispatches sent to the old one that it does not list never arrived.
        var reconnected = !isNew && (worker.Detached || worker.Peer != peer);
        worker.Detached = false;
        worker.Peer = peer;
        worker.Host = hello.Host;
        worker.Pid = hello.Pid;
        worker.Slots = Math.Max(1, hello.Slots);
        worker.Prefetch = Math.Max(0, hello.Prefetch);
        worker.OneShot = hello.OneShot;
        worker.Version = hello.Version;
        worker.LastSeen = now;
        worker.LastSeenSteady = instant.Steady;
        if (hello.Queues is { Count: > 0 } queues && !worker.Queues.SetEquals(queues))
        {
            worker.Queues = new HashSet<string>(queues, StringComparer.Ordinal);
        }

        if (hello.Labels is { } labels && !worker.Labels.SetEquals(labels))
        {
            worker.Labels = new HashSet<string>(labels, StringComparer.Ordinal);
        }

        var foreign = new List<RunningJobRef>();
        var reported = new HashSet<long>();
        foreach (var running in hello.Running)
        {
            if (_leases.IsCurrentOrKilling(worker.Id, running.JobId, running.Attempt, out var job))
            {
                reported.Add(job.Id);
                worker.Running.Add(job.Id, job.SlotCount);
                _grace.Claimed(job.Id);
            }
            else if (TakeBack(worker, running) is { } takenBack)
            {
                reported.Add(takenBack.Id);
            }
            else
            {
                foreign.Add(running);
            }
        }

        // The worker has seen our dispatches up to LastDispatch: a job handed over in one of them that it does not
        // list never reached it (lost with a dropped connection), so it goes back to the front of the queue. Only
        // numbers from this server run count; hellos queued before it say nothing about our dispatches.
        var fresh = hello.Epoch == _epoch;
        var seen = fresh ? hello.LastDispatch : 0;
        foreach (var jobId in worker.Running.Where(id => !reported.Contains(id)
                     && worker.DispatchedSeq.TryGetValue(id, out var seq) && (seq <= seen || reconnected)).ToList())
        {
            worker.Running.Remove(jobId);
            worker.DispatchedSeq.Remove(jobId);
            if (_jobs.TryGetValue(jobId, out var lost))
            {
                ReturnUnstarted(lost);
            }
            else
            {
                _leases.ForgetKill(jobId);
            }
        }

        // After a restart, a worker's hello sent once it heard from this run (it carries our epoch) lists every job it
        // holds: whatever the server before us handed it had reached it first. So one of its jobs it does not list is
        // not running: a hand-off it never confirmed (committed, then the server died before sending it) goes back to
        // its place in the queue as if never handed out; one it had confirmed was lost with the worker's state and
        // counts as an attempt. A hello from before (queued while we were down, or sent as the old server's last
        // dispatch was on its way) may miss a job the worker did get: it proves nothing, and we answer it with our
        // epoch so the worker's next hello does. (Guarantee point: absence never re-runs a job a worker still holds.)
        if (fresh)
        {
            foreach (var jobId in _grace.Orphans.Where(id => !reported.Contains(id) && _jobs.TryGetValue(id, out var j) && j.WorkerId == worker.Id).ToList())
            {
                _grace.Claimed(jobId);
                ReturnOrphan(_jobs[jobId], now);
            }
        }

        // Jobs we do not know (we restarted and lost them) still take the worker's slots until it reports them done.
        worker.ForeignRunning = foreign.Count;
        _workers.Refresh(worker);
        AskForScheduling();
        EndEvent();
        return new WorkerHelloOutcome(isNew, foreign, !fresh);
    }

    /// <summary>
    /// A worker said goodbye (<paramref name="dead"/> false) or fell silent: its slots go away and its running jobs go
    /// back to the front of the queue, or fail once they have used up their attempts.
    /// </summary>
    public void WorkerGone(string workerId, bool dead, Instant now)
    {
        _now = now;
        Gone(workerId, dead);
        EndEvent();
    }

    private void Gone(string workerId, bool dead)
    {
        var now = _now.Wall;
        if (!_workers.Remove(workerId, out var worker))
        {
            return;
        }

        _lastWorkerLeft = (worker.Host, dead, now);
        _dispatcher.Unkeep(worker);

        foreach (var jobId in worker.Running.OrderDescending())
        {
            if (_leases.ForgetKill(jobId))
            {
                continue; // already ended as Cancelled
            }

            if (_jobs.TryGetValue(jobId, out var job))
            {
                var attempt = job.Attempts;
                Requeue(job, dead, now);
                if (dead)
                {
                    RememberTakenFrom(job, worker.Id, attempt);
                }
            }
        }

        AskForScheduling();
    }

    /// <summary>
    /// A connection is gone (a send to it failed): forget its watches, and send its worker nothing more. The worker is
    /// not declared dead for it: a worker whose relay died (its jobs kept by its job keeper) comes back under a new
    /// connection and lists its jobs, and one that never comes back is declared dead by the dead-worker time (Tick).
    /// Declaring it dead here failed jobs that its keeper was running to their end. (Guarantee point.)
    /// </summary>
    public void PeerLost(PeerId peer, Instant now)
    {
        _now = now;
        _watches.RemovePeer(peer);
        foreach (var worker in _workers.All.Where(w => w.Peer == peer))
        {
            worker.Detached = true;
            _workers.Refresh(worker);
        }
    }
}
