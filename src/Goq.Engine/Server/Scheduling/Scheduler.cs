using Goq.Protocol;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>
/// The queue as a pure state machine: events in, state changes (staged in the store's memory, as copies) and effects
/// (messages to send, through one port) out. No sockets, no files, no clock of its own (every event brings its time),
/// and no event reads a job from the store: the active jobs and their specs are held here, except that past
/// <see cref="SchedulerOptions.WholeWaitingJobs"/> a waiting job is held by its place alone and read back in a step of
/// its own that the server performs around the events (<see cref="ReadBack"/>, <see cref="ReadAhead"/>). How a job the
/// scheduler does not hold ended is the server's answer (the endedState it gives, from the store), asked for the
/// dependencies of a job being placed; whatever else concerns ended jobs the server answers from the store itself
/// (<see cref="JobQueries"/>). Owned by exactly one thread, the server's poller.
/// <para>
/// This type is the way in: each public event sets the time, lets a handler type do its work, and ends in
/// <see cref="EndEvent"/>, where scheduling runs once if something asked for it and the changed records are staged.
/// The handlers: <see cref="UserRequests"/> (submit, cancel, holds...), <see cref="WorkerEvents"/> (hellos, reports,
/// silence), <see cref="JobLifecycle"/> (the moves of a job between the parts), <see cref="SchedulerQueries"/> (the read
/// side). The parts, each the owner of its state: <see cref="JobTable"/> (the one place a job's state changes),
/// <see cref="WaitingPool"/>, <see cref="WorkerPool"/>, <see cref="Dispatcher"/>, <see cref="JobPlacement"/>,
/// <see cref="KeptByPlace"/>, <see cref="Leases"/>, <see cref="RestartGrace"/>, <see cref="ArrayJobs"/>,
/// <see cref="DependencyGraph"/>, <see cref="RunLimits"/>, <see cref="WatchRegistry"/> (see <see cref="SchedulerParts"/>).
/// </para>
/// </summary>
public sealed class Scheduler
{
    private readonly SchedulerParts _parts;
    private readonly JobLifecycle _life;
    private readonly WorkerEvents _workerEvents;
    private readonly UserRequests _requests;
    private readonly SchedulerQueries _queries;

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
        options ??= new SchedulerOptions();
        var jobs = new JobTable();
        var waiting = new WaitingPool();
        var workers = new WorkerPool();
        var dependencies = new DependencyGraph();
        var limits = new RunLimits();
        var kept = new KeptByPlace(jobs, waiting, options.WholeWaitingJobs);
        JobLifecycle? life = null; // the arrays admit and end their tasks through it, once it is made just below
        _parts = new SchedulerParts
        {
            Store = staging,
            Port = port,
            Options = options,
            Jobs = jobs,
            Waiting = waiting,
            Workers = workers,
            Watches = new WatchRegistry(),
            Dependencies = dependencies,
            Limits = limits,
            Grace = new RestartGrace(options.RestartGrace, now),
            Leases = new Leases(jobs),
            Placement = new JobPlacement(jobs, waiting, dependencies),
            Places = kept,
            Dispatcher = new Dispatcher(waiting, workers, limits, kept, options),
            Arrays = new ArrayJobs(jobs, staging, limits, (job, at) => life!.Admit(job, life.EndedState, at), (job, state, reason, at) => life!.End(job, state, reason, at)),
            Tally = Tally,
            Epoch = Guid.NewGuid().ToString("N"),
            Now = now,
        };
        _life = life = new JobLifecycle(_parts) { EndedState = endedState ?? (_ => null) };
        _workerEvents = new WorkerEvents(_parts, _life);
        _requests = new UserRequests(_parts, _life);
        _queries = new SchedulerQueries(_parts, _workerEvents);
        Load(active, endedState, arrays, places);
    }

    /// <summary>Ended jobs by queue and state, and the counts since start: what the metrics read (see <see cref="JobTally"/>).</summary>
    public JobTally Tally { get; } = new();

    /// <summary>Jobs Waiting: in the queue for a slot, or for their -NotBefore time (array tasks not made yet included).</summary>
    public int WaitingJobs => _parts.Waiting.Count + _parts.Placement.Delayed.Count + _parts.Arrays.UnmadeIn(JobState.Waiting);

    public int BlockedJobs => _parts.Jobs.Blocked.Count + _parts.Arrays.UnmadeIn(JobState.Blocked);

    public int HeldJobs => _parts.Jobs.Held.Count + _parts.Arrays.UnmadeIn(JobState.Held);

    public int RunningJobs => _queries.RunningJobs;

    public long DeadWorkerResubmits => _parts.Store.Counters.DeadWorkerResubmits;

    public int IdleSlots => _parts.Workers.IdleSlots;

    public int WorkerCount => _parts.Workers.Count;

    public int WatchedJobs => _parts.Watches.Count;

    /// <summary>Waiting jobs kept by their place alone, their records in the store.</summary>
    public int JobsKeptByPlace => _parts.Places.Count;

    /// <summary>Names this server run: a worker's hello that carries it was sent after the worker heard from this run.</summary>
    public string Epoch => _parts.Epoch;

    /// <summary>Jobs found running at start-up whose worker has not announced itself yet.</summary>
    public int OrphanedJobs => _parts.Grace.Orphans.Count;

    /// <summary>Told of a job's state change that was refused as illegal (a defect: the server logs it).</summary>
    public Action<JobTransition>? TransitionRefused
    {
        get => _parts.Jobs.Refused;
        set => _parts.Jobs.Refused = value;
    }

    /// <summary>
    /// The server listens from <paramref name="now"/>: the restart grace counts from here, not from when the store was
    /// read, so a slow start (a long queue to load, a busy host) does not eat the time workers have to come back.
    /// </summary>
    public void Serving(Instant now)
    {
        _parts.Now = now;
        _parts.Grace.Serving(now);
    }

    /// <summary>
    /// Queues a batch, in order, recording its <paramref name="batchId"/> with it. (A batch id seen before is the
    /// server's to answer, from the store: see <see cref="JobQueries.SeenBatch"/>; idempotent submit.)
    /// </summary>
    /// <param name="endedState">How a job this scheduler does not hold ended (null: unknown): the server's answer, from
    /// the store, for the jobs the batch depends on.</param>
    public IReadOnlyList<JobInfo> Submit(IReadOnlyList<JobSpec> specs, Instant now, string? batchId = null, Func<long, JobState?>? endedState = null) =>
        Event(now, () => _requests.Submit(specs, now, batchId, endedState));

    /// <summary>Cancels jobs (see <see cref="UserRequests.Cancel"/>); the reply's Unknown holds the ids this scheduler does not hold.</summary>
    /// <param name="schedule">False for a step of a request named in several (see <see cref="ReadBack"/>) that is not its
    /// last: scheduling waits for the last, as it would for the request in one event.</param>
    public CancelJobsReply Cancel(IReadOnlyList<long> ids, Instant now, bool schedule = true) => Event(now, () => _requests.Cancel(ids, now), schedule);

    /// <summary>Jobs the store no longer holds (Remove-GoqJob): a cancelled one whose kill is under way keeps no output.</summary>
    public void Removed(IEnumerable<long> ids, Instant now) => Event(now, () => _requests.Removed(ids, now));

    /// <summary>Holds jobs that have not started (Suspend-GoqJob); the reply's Unknown holds the ids this scheduler does not hold.</summary>
    public SetJobsReply Hold(IReadOnlyList<long> ids, Instant now) => Event(now, () => _requests.HoldAt(ids, now.Wall));

    /// <summary>Releases held jobs (Resume-GoqJob): a user's hold, and a -NotBefore time not reached, both end now.</summary>
    /// <param name="schedule">As for <see cref="Cancel"/>.</param>
    public SetJobsReply Release(IReadOnlyList<long> ids, Instant now, bool schedule = true) => Event(now, () => _requests.Release(ids, now), schedule);

    /// <summary>Changes the priority of jobs that have not started (they move in the queue).</summary>
    public SetJobsReply SetPriority(IReadOnlyList<long> ids, int priority, Instant now) => Event(now, () => _requests.SetPriority(ids, priority, now));

    /// <summary>Puts ended jobs back in the queue under their own ids, each as a new run (Restart-GoqJob).</summary>
    public IReadOnlyList<JobInfo> Restart(IReadOnlyList<(JobInfo Job, JobSpec Spec)> ended, Instant now, Func<long, JobState?>? endedState = null) =>
        Event(now, () => _requests.Restart(ended, now, endedState));

    /// <summary>An array that ended is held again, with the tasks it had, because some of them are about to be restarted.</summary>
    public void Revive(JobInfo info, JobSpec spec, IReadOnlyList<(long Id, JobState State)> tasks, Instant now) =>
        Event(now, () => _requests.Revive(info, spec, tasks, now));

    /// <summary>Caps how many jobs of a queue run at once (0: no cap); kept in the store. Jobs start at once if the cap rose.</summary>
    public QueueInfo SetQueueLimit(string queue, int limit, Instant now)
    {
        Event(now, () => _requests.SetQueueLimit(queue, limit));
        return _queries.GetQueues().First(q => q.Name == queue);
    }

    /// <summary>Watches the jobs among <paramref name="ids"/> that are active; returns the others (ended, or unknown).</summary>
    public IReadOnlyList<long> Watch(PeerId peer, long rid, IReadOnlyList<long> ids) => _requests.Watch(peer, rid, ids);

    public void Unwatch(PeerId peer, long rid) => _parts.Watches.Remove(peer, rid);

    /// <summary>
    /// A worker announced itself (on connect and as its heartbeat). Says whether it was new, and which of the jobs it
    /// listed this server does not hold: the server looks those up (one cancelled while the worker was out of reach
    /// is stopped now).
    /// </summary>
    public WorkerHelloOutcome WorkerHello(PeerId peer, WorkerHello hello, Instant now, string? onlyOwner = null) =>
        Event(now, () => _workerEvents.WorkerHello(peer, hello, now, onlyOwner));

    /// <summary>Records that a job's process started; a report for another lease is ignored.</summary>
    public bool JobStarted(JobStarted started, Instant now) => Event(now, () => _workerEvents.JobStarted(started, now));

    /// <summary>Records a job's end, once; returns the job, or null when the report is stale or unknown.</summary>
    public JobInfo? JobFinished(JobFinished finished, Instant now) => Event(now, () => _workerEvents.Finished(finished));

    /// <summary>
    /// A worker gives back a job it held ahead of a free slot, unstarted (see <see cref="WorkerEvents.Returned"/>). False
    /// when the report is for no lease of that worker's.
    /// </summary>
    public bool JobReturned(JobReturned returned, Instant now) => Event(now, () => _workerEvents.Returned(returned));

    /// <summary>
    /// A worker said goodbye (<paramref name="dead"/> false) or fell silent: its slots go away and its running jobs go
    /// back to the front of the queue, or fail once they have used up their attempts.
    /// </summary>
    public void WorkerGone(string workerId, bool dead, Instant now) => Event(now, () => _workerEvents.Gone(workerId, dead));

    /// <summary>A connection is gone (a send to it failed): see <see cref="WorkerEvents.PeerLost"/>.</summary>
    public void PeerLost(PeerId peer, Instant now) => Event(now, () => _workerEvents.PeerLost(peer, now));

    /// <summary>
    /// Time passes: running jobs whose worker did not come back after a restart are re-queued, and workers not heard
    /// from for too long are declared dead.
    /// </summary>
    public void Tick(Instant now) => Event(now, () => _workerEvents.Tick(now));

    /// <summary>Tells idle workers (and/or the named ones) to exit; they get no more jobs from now on.</summary>
    public StopWorkersReply StopWorkers(bool idle, IReadOnlyList<string>? ids, bool drain, Instant now) =>
        Event(now, () => _workerEvents.StopWorkers(idle, ids, drain, now));

    /// <summary>
    /// The read step before a request that names jobs (not an event: no state changes but jobs kept by their place
    /// being held whole from now): those of <paramref name="ids"/> kept by place are read back through
    /// <paramref name="reader"/>. The server names a few thousand at a time (see <see cref="KeptByPlace"/>).
    /// </summary>
    public void ReadBack(IWaitingJobReader reader, IEnumerable<long> ids) => _parts.Places.ReadBack(reader, ids);

    /// <summary>
    /// The read step after a turn: the heads of their class the dispatcher found kept by place are read back through
    /// <paramref name="reader"/>, and scheduling runs again (an event, at <paramref name="now"/>). False when there was
    /// nothing to read: the server repeats it until then.
    /// </summary>
    public bool ReadAhead(IWaitingJobReader reader, Instant now)
    {
        if (!_parts.Places.ReadWanted(reader))
        {
            return false;
        }

        Event(now, _parts.Dispatcher.Ask);
        return true;
    }

    /// <summary>
    /// Whether a dispatch held back (a store outage) still hands its job to that connection: false once the job was
    /// taken back and went elsewhere, or ended, meanwhile.
    /// </summary>
    public bool IsDispatchCurrent(DispatchJob dispatch, PeerId to) => _workerEvents.IsDispatchCurrent(dispatch, to);

    /// <summary>The job whose output this worker and lease may write (fencing), or null (see <see cref="Leases.OutputWriter"/>).</summary>
    public JobInfo? OutputWriter(string workerId, long jobId, int attempt) => _parts.Leases.OutputWriter(workerId, jobId, attempt);

    /// <summary>The scheduler's own record of a job it holds (waiting, running, or cancelled with its kill under way), else null.</summary>
    public JobInfo? GetJob(long id) => _queries.GetJob(id);

    /// <summary>The jobs a dispatch among <paramref name="effects"/> hands out, as this scheduler holds them now.</summary>
    public IEnumerable<JobInfo> Dispatched(IEnumerable<SchedulerEffect> effects) => _queries.Dispatched(effects);

    /// <summary>Why a job waiting for a slot does not start, when something other than busy slots holds it back; else null.</summary>
    public string? WhyWaiting(long id) => _queries.WhyWaiting(id);

    /// <summary>Every queue that jobs, workers or a limit name (and the default queue), with its counts.</summary>
    public IReadOnlyList<QueueInfo> GetQueues() => _queries.GetQueues();

    /// <summary>The active jobs by queue and state (waiting, running, blocked, held): see <see cref="SchedulerQueries.CountActive"/>.</summary>
    public IReadOnlyDictionary<(string Queue, JobState State), long> CountActive() => _queries.CountActive();

    /// <summary>Where each connected worker is reached.</summary>
    public IEnumerable<PeerId> WorkerPeers => _queries.WorkerPeers;

    public IReadOnlyList<WorkerInfo> GetWorkers() => _queries.GetWorkers();

    /// <summary>The state changes of jobs since the last call, in order (see <see cref="JobTable.Transition"/>).</summary>
    public IReadOnlyList<JobTransition> TakeTransitions() => _parts.Jobs.TakeTransitions();

    /// <summary>The record of an array job this scheduler holds (not ended), or null.</summary>
    public JobInfo? GetArray(long id) => _parts.Arrays.Get(id);

    /// <summary>The indices of a held array's tasks, ascending (a task's position among them gives its id), or null.</summary>
    public int[]? ArrayIndices(long id) => _parts.Arrays.Indices(id);

    /// <summary>Whether <paramref name="id"/> is a task of a held array that has not been made yet (it exists, waiting its turn).</summary>
    public bool IsUnmadeTask(long id) => _parts.Arrays.IsUnmadeTask(id);

    /// <summary>The owner of the held array a task id belongs to, made or not; null when none.</summary>
    public string? OwnerOfTask(long id) => _parts.Arrays.OwnerOfTask(id);

    /// <summary>
    /// The tasks not made yet, as rows (each a fresh record), with ids above <paramref name="afterId"/> (and among
    /// <paramref name="ids"/>, when given), at most <paramref name="limit"/>, ascending.
    /// </summary>
    public IReadOnlyList<JobInfo> UnmadeJobs(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId, int limit, JobFilter? filter) =>
        _parts.Arrays.UnmadeJobs(ids, states, afterId, limit, filter);

    /// <summary>
    /// One event: its time, its work, and its end (<see cref="EndEvent"/>), even when the work throws (a defect: what it
    /// changed in memory is staged all the same, so the store never falls behind the scheduler's state).
    /// </summary>
    private T Event<T>(Instant now, Func<T> handle, bool schedule = true)
    {
        _parts.Now = now;
        try
        {
            return handle();
        }
        finally
        {
            EndEvent(schedule);
        }
    }

    private void Event(Instant now, Action handle) => Event<bool>(now, () =>
    {
        handle();
        return true;
    });

    /// <summary>
    /// Every event ends here: the scheduling it asked for runs, once (unless <paramref name="schedule"/> is false: then
    /// it waits for the next event that schedules), and the records it changed are staged in the store, as copies.
    /// </summary>
    private void EndEvent(bool schedule = true)
    {
        if (schedule)
        {
            _parts.Dispatcher.RunIfAsked(_parts.Now, _life.Hand);
        }

        _parts.Jobs.StageChanges(_parts.Store);
    }

    /// <summary>The active jobs and arrays the store gave, each where it belongs (a running one waits for its worker).</summary>
    private void Load(IEnumerable<(JobInfo Job, JobSpec Spec)> active, Func<long, JobState?>? endedState,
        IEnumerable<(JobInfo Array, JobSpec Spec, IReadOnlyList<(long Id, JobState State)> Tasks)>? arrays, IEnumerable<WaitingPlace>? places)
    {
        var now = _parts.Now;
        foreach (var (queue, limit) in _parts.Store.Counters.QueueLimits)
        {
            _parts.Limits.SetLimit(RunLimits.QueueKey(queue), limit);
        }

        // Arrays first: a job that depends on one waits for it.
        foreach (var (array, spec, tasks) in arrays ?? [])
        {
            _parts.Arrays.Load(array, spec, tasks);
        }

        var notStarted = new List<JobInfo>();
        foreach (var (job, spec) in active)
        {
            _parts.Jobs.Add(job, spec);
            if (job.State == JobState.Running)
            {
                // Restart: a running job stays its worker's for a grace period; a worker that re-announces it keeps it.
                _parts.Grace.Orphaned(job.Id);
                _parts.Limits.Enter(job.Id, JobClass.Of(job).Throttles);
            }
            else
            {
                notStarted.Add(job);
            }
        }

        foreach (var place in places ?? [])
        {
            _parts.Places.Add(place, now.Steady);
        }

        // Placed once every active job is known, so a dependency on one of them counts as not ended.
        foreach (var job in notStarted)
        {
            _life.Admit(job, endedState ?? (_ => null), now.Wall);
        }

        foreach (var array in _parts.Arrays.Values.ToList())
        {
            _parts.Arrays.Resume(array, now.Wall);
        }

        _parts.Jobs.StageChanges(_parts.Store);
    }
}
