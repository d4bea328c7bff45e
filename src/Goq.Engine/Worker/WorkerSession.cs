using Goq.Protocol;

namespace Goq.Worker;

/// <summary>
/// What a worker keeps of its conversation with the server, without sockets or processes: who it says it is (its
/// hello), the number of the last dispatch it got in the server's current run, and the job ends the server has not yet
/// acknowledged, which it sends again until it does. <see cref="GoqWorker"/> speaks through it, and so do the scale
/// harness's simulated workers (tests/SimWorkers), so the two cannot speak the protocol differently. The caller sends
/// what it returns; one thread at a time (the worker's socket thread).
/// </summary>
public sealed class WorkerSession
{
    private readonly string _host;
    private readonly int _slots;
    private readonly bool _oneShot;
    private readonly int _prefetch;
    private readonly IReadOnlyList<string>? _queues;
    private readonly IReadOnlyList<string>? _labels;
    private readonly string? _hostKey;

    // Ends reported and not acknowledged, the worker's own and those adopted from dead workers on this host; and the
    // jobs that ended and whose report waits (their output file syncing). A dictionary keeps the order reports were
    // first made in, so they are sent again in that order.
    private readonly Dictionary<(long JobId, int Attempt), JobFinished> _unacked = new();
    private readonly Dictionary<(long JobId, int Attempt), JobFinished> _adopted = new();
    private readonly HashSet<(long JobId, int Attempt)> _endsWaiting = [];

    /// <param name="workerId">The id the worker speaks under.</param>
    /// <param name="host">The machine's name, as the hello gives it.</param>
    /// <param name="slots">How many slots the hello announces.</param>
    /// <param name="oneShot">Whether it runs one job, then exits.</param>
    /// <param name="prefetch">How many jobs beyond its slots it takes ahead.</param>
    /// <param name="queues">The queues it serves (null: the default queue).</param>
    /// <param name="labels">What it offers (gpu, ...).</param>
    /// <param name="hostKey">Its machine, boot and mount namespace (<see cref="Platform.HostKey"/>); null says nothing.</param>
    public WorkerSession(string workerId, string host, int slots, bool oneShot = false, int prefetch = 0, IReadOnlyList<string>? queues = null,
        IReadOnlyList<string>? labels = null, string? hostKey = null)
    {
        WorkerId = workerId;
        _host = host;
        _slots = slots;
        _oneShot = oneShot;
        _prefetch = prefetch;
        _queues = queues;
        _labels = labels;
        _hostKey = hostKey;
    }

    /// <summary>The id the worker speaks under.</summary>
    public string WorkerId { get; }

    /// <summary>The server run whose dispatches <see cref="LastDispatch"/> counts (null: none heard from yet).</summary>
    public string? Epoch { get; private set; }

    /// <summary>The highest dispatch number got in <see cref="Epoch"/>: the hello echoes it, so the server sees which dispatches never came.</summary>
    public long LastDispatch { get; private set; }

    /// <summary>Whether some of the worker's own ends wait for the server's acknowledgement.</summary>
    public bool HasUnacknowledgedEnds => _unacked.Count > 0;

    /// <summary>Whether some end, the worker's own or adopted, waits for the server's acknowledgement.</summary>
    public bool AwaitsAcks => _unacked.Count > 0 || _adopted.Count > 0;

    /// <summary>Whether some job ended and its report is not made yet (see <see cref="EndWaits"/>).</summary>
    public bool EndsWaiting => _endsWaiting.Count > 0;

    /// <summary>The worker's own ends not yet acknowledged, in the order first reported: sent again after each hello.</summary>
    public IEnumerable<JobFinished> UnacknowledgedEnds => _unacked.Values;

    /// <summary>
    /// Ends found in dead workers' ledgers and not yet acknowledged: sent again before each hello (a hello can bring a
    /// dispatch, and the server must take such an end before it hands that job out again).
    /// </summary>
    public IEnumerable<JobFinished> AdoptedEnds => _adopted.Values;

    /// <summary>
    /// The announcement, also the heartbeat: who the worker is and every job it holds. <paramref name="held"/> are the
    /// jobs it runs or took ahead; after them come the jobs whose end the server has not acknowledged (still the
    /// worker's: listing them keeps the server from thinking their dispatch was lost before the re-sent report reaches
    /// it), then those whose end waits to be reported.
    /// </summary>
    /// <param name="pid">The process the hello names (a job keeper's relay gives its own).</param>
    public WorkerHello Hello(int pid, IEnumerable<RunningJobRef> held) =>
        new(WorkerId, _host, pid, _slots,
            held.Concat(_unacked.Keys.Select(k => new RunningJobRef(k.JobId, k.Attempt)))
                .Concat(_endsWaiting.Select(k => new RunningJobRef(k.JobId, k.Attempt)))
                .ToList(),
            GoqVersion.Current, _oneShot, Epoch, LastDispatch, _prefetch, _queues, _labels, _hostKey);

    /// <summary>The goodbye: the server queues again the jobs the worker still runs.</summary>
    public WorkerBye Bye() => new(WorkerId);

    /// <summary>
    /// Counts a dispatch (a new server run starts the count again). Returns the job ends it acknowledges, for the
    /// caller to pass to <see cref="Acknowledged"/> along with what it keeps for them.
    /// </summary>
    public IReadOnlyList<RunningJobRef> Dispatched(DispatchJob dispatch)
    {
        if (dispatch.Epoch != Epoch)
        {
            Epoch = dispatch.Epoch;
            LastDispatch = 0;
        }

        LastDispatch = Math.Max(LastDispatch, dispatch.Seq);
        return dispatch.Acks ?? [];
    }

    /// <summary>
    /// The server answered a hello. True when it speaks for a server run not heard from before (a restart): the count
    /// of dispatches starts again, and a hello sent now lists every job the worker holds (what the run before sent
    /// has reached it by then), so the jobs the server finds running are settled in a round trip.
    /// </summary>
    public bool Answered(WorkerHelloReply reply)
    {
        if (reply.Epoch is not { } epoch || epoch == Epoch)
        {
            return false;
        }

        Epoch = epoch;
        LastDispatch = 0;
        return true;
    }

    /// <summary>
    /// The job ended and its report waits (its output file syncing): until <see cref="EndReady"/>, hellos still list
    /// it.
    /// </summary>
    public void EndWaits(long jobId, int attempt) => _endsWaiting.Add((jobId, attempt));

    /// <summary>The job's report is made (or, the job killed as the worker exits, never will be).</summary>
    public void EndReady(long jobId, int attempt) => _endsWaiting.Remove((jobId, attempt));

    /// <summary>A job's end, kept until the server acknowledges it. Returns the report to send.</summary>
    public JobFinished Ended(JobFinished report)
    {
        _unacked[(report.JobId, report.Attempt)] = report;
        return report;
    }

    /// <summary>
    /// An end a dead worker on this host recorded and the server never acknowledged: reported for it (its id holds the
    /// lease) until the server does. Lines the dead worker sent and the server never took are gone with it, so the
    /// server takes the end without waiting for them. Returns the report to send.
    /// </summary>
    public JobFinished Adopt(JobFinished end)
    {
        var report = end with { TotalLines = null };
        _adopted[(end.JobId, end.Attempt)] = report;
        return report;
    }

    /// <summary>Whether the end of that attempt waits for the server's acknowledgement.</summary>
    public bool AwaitsAck(long jobId, int attempt) => _unacked.ContainsKey((jobId, attempt));

    /// <summary>
    /// The server stored the end of that attempt: it is not sent again. True when an end (own or adopted) waited for
    /// it; an acknowledgement of another attempt of the job leaves that one's end waiting.
    /// </summary>
    public bool Acknowledged(long jobId, int attempt)
    {
        var own = _unacked.Remove((jobId, attempt));
        var adopted = _adopted.Remove((jobId, attempt));
        return own || adopted;
    }
}
