using Goq.Protocol;
using Goq.Server.Queries;
using Goq.Server.Scheduling;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Tests.Server;

/// <summary>
/// A scheduler under test, with its store and a clock the test moves. The scheduler tests build the messages workers
/// send (hello, start, end, return) and read what the scheduler sends only through here, so a change to the protocol
/// or to how the scheduler takes its time is an edit of this file.
/// </summary>
internal sealed class SchedulerHarness
{
    /// <summary>Where the clock starts unless a test gives another moment.</summary>
    public static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    // The options every scheduler made here gets (null: the defaults).
    private readonly SchedulerOptions? _options;

    /// <summary>A scheduler over <paramref name="store"/> (a fresh in-memory one by default), made at <paramref name="start"/>.</summary>
    public SchedulerHarness(SchedulerOptions? options = null, Instant? start = null, IJobStore? store = null)
    {
        _options = options;
        Now = start ?? Epoch;
        Store = store ?? new InMemoryJobStore();
        Scheduler = new Scheduler(Store, Port, Now, _options);
        Queries = new JobQueries(Store, Scheduler);
    }

    /// <summary>The scheduler's port: a recorder of what it sent (a restarted scheduler sends through it too).</summary>
    public SchedulerOutbox Port { get; } = new();

    /// <summary>The store the scheduler writes to, and a restarted one reads from.</summary>
    public IJobStore Store { get; private set; }

    /// <summary>The scheduler under test; <see cref="Restart"/> replaces it.</summary>
    public Scheduler Scheduler { get; private set; }

    /// <summary>Where the scheduler's answers and the store's meet, as the server asks them (ended jobs, pages, restarts).</summary>
    public JobQueries Queries { get; private set; }

    /// <summary>The moment every event given to the scheduler carries. Set it to step the wall clock apart from the steady one.</summary>
    public Instant Now { get; set; }

    /// <summary>Lets time pass on both clocks.</summary>
    public Instant Advance(TimeSpan by) => Now = Now.Add(by);

    /// <summary>A connection, by name; a worker's messages come from the one named as the worker unless a test says otherwise.</summary>
    public static PeerId Peer(string name) => new(name);

    /// <summary>
    /// A shell job with what a test varies named, and the rest as a plain submit leaves it (<paramref name="retryDelay"/>
    /// is in seconds, as -RetryDelaySec).
    /// </summary>
    public static JobSpec Spec(string command = "true", string queue = JobSpec.DefaultQueue, int slots = 1, int priority = 0,
        IReadOnlyList<string>? require = null, IReadOnlyList<long>? dependsOn = null, DependencyMode mode = DependencyMode.AfterOk, bool hold = false,
        DateTimeOffset? notBefore = null, int retries = 0, int retryDelay = 0, int maxAttempts = JobSpec.DefaultMaxAttempts,
        IReadOnlyList<int>? array = null, int throttle = 0) => new()
        {
            Kind = JobKind.Shell,
            Command = command,
            Queue = queue,
            SlotCount = slots,
            Priority = priority,
            Require = require ?? [],
            DependsOn = dependsOn ?? [],
            DependencyMode = mode,
            Hold = hold,
            NotBefore = notBefore,
            RetryCount = retries,
            RetryDelaySec = retryDelay,
            MaxAttempts = maxAttempts,
            ArrayIndex = array,
            ThrottleLimit = throttle,
        };

    /// <summary>
    /// A new scheduler over the store as the last one left it (or over <paramref name="store"/>, a reopened one), made
    /// at <see cref="Now"/>: a server restart.
    /// </summary>
    public Scheduler Restart(IJobStore? store = null)
    {
        Store = store ?? Store;
        Scheduler = new Scheduler(Store, Port, Now, _options);
        Queries = new JobQueries(Store, Scheduler);
        return Scheduler;
    }

    /// <summary>Submits one job.</summary>
    public JobInfo Submit(JobSpec spec) => Submit([spec])[0];

    /// <summary>Submits a batch, in order.</summary>
    public IReadOnlyList<JobInfo> Submit(IReadOnlyList<JobSpec> specs, string? batchId = null, Func<long, JobState?>? endedState = null) =>
        Turn(Scheduler.Submit(specs, Now, batchId, endedState));

    /// <summary>
    /// A worker's hello (its first, or a heartbeat), sent from <paramref name="peer"/> (by default the connection named as
    /// the worker). <paramref name="epoch"/> and <paramref name="lastDispatch"/> name the scheduler run and the last
    /// dispatch of it the worker heard of; a null epoch says nothing about dispatches.
    /// </summary>
    public WorkerHelloOutcome Hello(string worker, int slots = 1, IReadOnlyList<RunningJobRef>? running = null, bool oneShot = false, int prefetch = 0,
        IReadOnlyList<string>? queues = null, IReadOnlyList<string>? labels = null, string? epoch = null, long lastDispatch = 0, string? peer = null,
        string host = "host") =>
        Turn(Scheduler.WorkerHello(Peer(peer ?? worker), new WorkerHello(
            WorkerId: worker,
            Host: host,
            Pid: 1,
            Slots: slots,
            Running: running ?? [],
            Version: "v",
            OneShot: oneShot,
            Epoch: epoch,
            LastDispatch: lastDispatch,
            Prefetch: prefetch,
            Queues: queues,
            Labels: labels), Now));

    /// <summary>A worker reports that a job's process started; false when that lease is not the job's current one.</summary>
    public bool Start(string worker, long id, int? attempt = null, int pid = 100) =>
        Scheduler.JobStarted(new JobStarted(worker, id, attempt ?? AttemptOf(id), pid, Now.Wall), Now);

    /// <summary>
    /// A worker reports a job's end, for <paramref name="attempt"/> (by default the lease the scheduler holds the job
    /// under); the run started at <see cref="Now"/> and took <paramref name="ran"/>. Unless given, the exit code is 0 for
    /// Completed, 1 for Failed and none otherwise. Returns the job, or null when the scheduler found the report stale.
    /// </summary>
    public JobInfo? Finish(string worker, long id, int? attempt = null, JobState state = JobState.Completed, int? exitCode = null, string? reason = null,
        TimeSpan ran = default, int? pid = null, JobUsage? usage = null) =>
        Turn(Scheduler.JobFinished(new JobFinished(worker, id, attempt ?? AttemptOf(id), state, exitCode ?? ExitCodeOf(state), reason, Now.Wall, Now.Wall + ran,
            pid, Usage: usage), Now));

    /// <summary>The end of a job the scheduler holds, from the worker and under the lease it runs with; asserts it was taken.</summary>
    public JobInfo End(long id, JobState state = JobState.Completed)
    {
        var job = Scheduler.GetJob(id) ?? throw new Xunit.Sdk.XunitException($"the scheduler holds no job {id}");
        var ended = Finish(job.WorkerId!, id, job.Attempts, state);
        Assert.NotNull(ended);
        return ended;
    }

    /// <summary>A worker gives back a job it took ahead and never started; false when that lease is stale.</summary>
    public bool Returned(string worker, long id, int attempt) => Turn(Scheduler.JobReturned(new JobReturned(worker, id, attempt), Now));

    /// <summary>A worker said goodbye, or (<paramref name="dead"/>) fell silent and was declared lost.</summary>
    public void Gone(string worker, bool dead = false)
    {
        Scheduler.WorkerGone(worker, dead, Now);
        ReadAhead();
    }

    /// <summary>The server's periodic turn at <see cref="Now"/>: lost workers, due timers, the restart grace.</summary>
    public void Tick()
    {
        Scheduler.Tick(Now);
        ReadAhead();
    }

    /// <summary>
    /// The server's read step after a turn: the heads the dispatcher found kept by their place are read back from the
    /// store and handed out, until none is left (every event of the harness ends with it, as the server's turns do).
    /// </summary>
    public void ReadAhead()
    {
        while (Scheduler.ReadAhead(Store, Now))
        {
        }
    }

    private T Turn<T>(T result)
    {
        ReadAhead();
        return result;
    }

    /// <summary>A job as a client sees it: the scheduler's record while it holds it, else the store's.</summary>
    public JobInfo Job(long id) => Queries.Job(id) ?? throw new Xunit.Sdk.XunitException($"no job {id}");

    /// <summary>Everything the scheduler sent since the last look (which this look takes).</summary>
    public IReadOnlyList<SchedulerEffect> Effects()
    {
        ReadAhead(); // as the server's loop does before it sends
        return Port.Take();
    }

    /// <summary>The messages of one kind the scheduler sent since the last look; the others are taken and dropped.</summary>
    public List<T> Messages<T>() => Effects().Select(e => e.Message).OfType<T>().ToList();

    /// <summary>The jobs handed out since the last look, in order, with the connection each went to; other effects are dropped.</summary>
    public List<Dispatch> Dispatches() => Effects().Where(e => e.Message is DispatchJob).Select(e => new Dispatch(e.To, (DispatchJob)e.Message)).ToList();

    /// <summary>The ids of the jobs handed out since the last look, in order.</summary>
    public List<long> DispatchedIds() => Dispatches().Select(d => d.JobId).ToList();

    private int AttemptOf(long id) => Scheduler.GetJob(id)?.Attempts ?? 1;

    private static int? ExitCodeOf(JobState state) => state switch
    {
        JobState.Completed => 0,
        JobState.Failed => 1,
        _ => null,
    };
}

/// <summary>A job handed to a worker: the message, and the connection it went to.</summary>
internal sealed record Dispatch(PeerId To, DispatchJob Job)
{
    public long JobId => Job.JobId;

    public int Attempt => Job.Attempt;
}
