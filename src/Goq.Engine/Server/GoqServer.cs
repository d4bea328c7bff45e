using System.Net.Sockets;
using Goq.Errors;
using Goq.Protocol;
using Goq.Storage;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

using Goq.Timing;
using Goq.Diagnostics;
using Goq.Platform;
using Goq.Server.OutputStore;
using Goq.Server.Queries;
using Goq.Server.Scheduling;
using Goq.Server.Access;

namespace Goq.Server;

// Over 400 lines across its partial files: the server's loop owns the socket, the turn (drain, events, the read step,
// commit) and its outbox. The outbox (acks riding on dispatches, notices, what an outage holds back) and the metrics'
// reporting are the parts to make types of their own next; the scheduler's were split in issue 27. The handlers' part
// (GoqServer.Handlers) is one short method per message kind; who may do what is decided outside it (Server/Access).
// The lease's checkpoint (LeaseLost, StepDown) stays here: it guards every way into the loop and clears its outbox.
/// <summary>
/// The server: one ROUTER socket and one <see cref="Scheduler"/>, both owned by one poller thread. Each turn of
/// the loop drains the messages that are ready, applies them, commits the store once, then sends the replies and
/// dispatches, so an acknowledgement never leaves before the state it reports is stored (group commit).
/// This part is the loop, the receive path and its checkpoints, kept together so every message's way from the socket
/// to a handler reads in one place; handlers, outbox, status and metrics are in the other parts.
/// </summary>
public sealed partial class GoqServer : IDisposable
{
    private const int MaxBatch = 2048;
    private const int MaxOutputPage = 16_384;

    /// <summary>An output page's JSON is at most this (bounded above per line), half a message.</summary>
    private const long OutputPageBytes = FrameCodec.MaxMessageBytes / 2;

    /// <summary>At most one job-end notice per watch per this many milliseconds (see <see cref="NoticeBatcher"/>).</summary>
    private const int NoticeInterval = 25;

    /// <summary>Pages of the job list waiting for the reader at most; past this a page is read on the loop thread.</summary>
    private const int MaxPagesAsked = 64;

    private readonly GoqServerOptions _options;
    private readonly IJobStore _store;
    private readonly Scheduler _scheduler;
    private readonly JobQueries _queries;
    private readonly OutputFiles _output;
    private readonly RouterSocket _router;
    private readonly NetMQPoller _poller;
    private readonly NetMQTimer _tick;
    private readonly NetMQTimer _noticeTimer;
    private readonly Dictionary<PeerId, List<RunningJobRef>> _acks = [];

    // Workers that see this server's files (same boot and mount namespace: HostKey), by id: they write their jobs'
    // output files themselves. GOQ_WORKER_WRITES_OUTPUT=0 keeps every job's output on the server path.
    private readonly HashSet<string> _sameHostWorkers = [];
    private readonly string? _hostKey = Environment.GetEnvironmentVariable("GOQ_WORKER_WRITES_OUTPUT") == "0" ? null : HostKey.Current;
    private readonly NoticeBatcher _notices = new(TimeSpan.FromMilliseconds(NoticeInterval));
    private readonly List<(PeerId To, long Rid, GoqMessage Message)> _outbox = [];
    private readonly StoreOutage _outage;
    private readonly SchedulerOutbox _effects = new(); // the scheduler's port: what it wants sent, after the turn's commit
    private readonly List<SchedulerEffect> _heldBack = []; // what an outage held, released by the commit that stored it
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WireCodec _wire;
    private readonly PageReads? _pageReads;
    private readonly List<PageRead> _pagesToRead = [];
    private readonly RejectionLimiter _rejections = new(perSecond: 20);
    private readonly AccessGate _access;

    private readonly WorkerClaims _workerClaims = new();

    // The accounts of jobs' owners, whose rights the server takes to make and read their output files (a multi-user
    // cluster's server run as root); null: the server's own rights.
    private readonly Func<string, UserAccount?>? _outputAccounts;
    private long _droppedMalformed;
    private long _droppedBadSignatures;
    private long _droppedReplays;
    private long _staleReports;
    private int _frameBytes; // the size of the message being applied (its JSON, inflated when it came packed)
    private bool _stopRequested;
    private string? _steppedDown; // why this server stopped serving for another (its lease ran out, its epoch is gone); then nothing more goes out
    private string _stopReason = "stopping";
    private int _started;
    private bool _loopStarted;

    public GoqServer(GoqServerOptions options, IJobStore store)
    {
        _options = options;
        _store = store;
        _outputAccounts = options.MultiUser && FileCredentials.CanSwitch ? UserAccounts.Find : null;
        _outage = new StoreOutage(options.StorePath is { } db ? Path.GetDirectoryName(Path.GetFullPath(db)) : null, options.Log);
        _scheduler = new Scheduler(store, _effects, Instant.Now, options.Scheduler ?? SchedulerOptions.FromHeartbeat(TimeSpan.FromMilliseconds(options.HeartbeatMs)));
        _scheduler.TransitionRefused = change => options.Log(LogEntry.Error("job.transition_refused",
            $"job {change.JobId}: refused an illegal change of state from {change.From} to {change.To} ({change.Reason}); please report it", job: change.JobId));
        _queries = new JobQueries(store, _scheduler);
        _output = new OutputFiles(options.FallbackOutputRoot ?? options.Home, options.OutputDir, options.Log, store.GetOutputIndex, (job, index) =>
        {
            _store.Update(job.Clone());
            _store.SaveOutputIndex(job.Id, index);
            return TryCommit(); // an extra commit, for a job whose output could not be placed when it was dispatched
        }, stagePlan: store.SaveOutputIndex,
            // Checkpoint (identity): in a multi-user cluster, a job's output is made with its owner's rights, never root's.
            accounts: _outputAccounts);
        var users = options.MultiUser ? new UserDirectory(options.Credentials.Secret, store.Counters) : null;
        _access = new AccessGate(users, options.PrivateJobs, options.Log);
        _wire = new WireCodec(options.Credentials.Secret, options.ReplayWindow, keys: users);
        _router = new RouterSocket();
        CurveSetup.AsServer(_router, options.Credentials);
        _router.Options.RouterMandatory = true;
        _router.Options.Linger = TimeSpan.Zero;
        _router.Options.MaxMsgSize = FrameCodec.MaxMessageBytes + 1024;
        _router.Options.ReceiveHighWatermark = 100_000;
        _router.Options.SendHighWatermark = 100_000;
        _router.ReceiveReady += (_, _) => OnReceiveReady();
        _tick = new NetMQTimer(Math.Clamp(options.HeartbeatMs / 2, 50, 1000));
        _tick.Elapsed += (_, _) => OnTick();
        _noticeTimer = new NetMQTimer(NoticeInterval) { Enable = false };
        _noticeTimer.Elapsed += (_, _) => SendDueNotices();
        _poller = new NetMQPoller { _router, _tick, _noticeTimer };
        if (store.OpenReader() is { } reader)
        {
            _pageReads = new PageReads(reader);
            _pageReads.Done.ReceiveReady += (_, _) => OnPagesRead();
            _poller.Add(_pageReads.Done);
        }
    }

    /// <summary>The endpoint actually bound (with the real port when port 0 was asked for).</summary>
    public string Endpoint { get; private set; } = "";

    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>Completes when the server has stopped and released its socket.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Why the server stepped down for another (see <see cref="GoqServerOptions.Lease"/>); null when it did not.</summary>
    public string? SteppedDown => Volatile.Read(ref _steppedDown);

    /// <summary>Why the server's loop failed (a bug, logged as server.loop_failed); null when it did not.</summary>
    public string? Failed => Volatile.Read(ref _failed);

    private string? _failed;

    /// <summary>Binds and starts serving; a taken port fails here with <see cref="GoqErrorIds.PortInUse"/>.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("the server was already started");
        }

        Endpoint = Bind(_options.BindEndpoint);
        StartedAt = DateTimeOffset.UtcNow;
        _loopStarted = true;
        _options.Log(LogEntry.Info("server.started", $"goq server {GoqVersion.Current} pid {Environment.ProcessId} listening on {Endpoint}; home '{_options.Home}', output dir '{_options.OutputDir}'"));
        var thread = new Thread(RunLoop) { IsBackground = true, Name = "goq-server" };
        thread.Start();
    }

    /// <summary>Stops serving; returns once the socket is released. Safe to call more than once, from any thread.</summary>
    public void Stop() => Stop("stopping");

    /// <summary>Stops serving, telling the workers why (<paramref name="reason"/>, e.g. "SIGTERM").</summary>
    public void Stop(string reason)
    {
        if (!_loopStarted)
        {
            if (_completion.TrySetResult())
            {
                _poller.Dispose();
                _router.Dispose();
                _pageReads?.Dispose();
            }

            return;
        }

        if (!_completion.Task.IsCompleted)
        {
            try
            {
                _poller.Run(() => (_stopRequested, _stopReason) = (true, _stopRequested ? _stopReason : reason));
                _poller.StopAsync();
            }
            catch (ObjectDisposedException)
            {
                // Already stopping on its own (a shutdown request won the race).
            }
        }

        _completion.Task.Wait();
    }

    public void Dispose()
    {
        Stop();
        _output.Dispose();
    }

    private string Bind(string endpoint)
    {
        // A port this process released a moment ago is freed by NetMQ's I/O thread a little later: retry briefly.
        var deadline = Deadline.In(TimeSpan.FromSeconds(2));
        while (true)
        {
            try
            {
                return TryBind(endpoint);
            }
            catch (GoqException ex) when (ex.ErrorId == GoqErrorIds.PortInUse && !deadline.Passed)
            {
                Thread.Sleep(50);
            }
        }
    }

    private string TryBind(string endpoint)
    {
        try
        {
            if (endpoint.EndsWith(":0", StringComparison.Ordinal))
            {
                var port = _router.BindRandomPort(endpoint[..^2]);
                return $"{endpoint[..^2]}:{port}";
            }

            _router.Bind(endpoint);
            return endpoint;
        }
        catch (Exception ex) when (ex is AddressAlreadyInUseException or NetMQException or SocketException)
        {
            var inUse = ex is AddressAlreadyInUseException || ex.Message.Contains("in use", StringComparison.OrdinalIgnoreCase);
            throw new GoqException(inUse ? GoqErrorIds.PortInUse : GoqErrorIds.ServerStartFailed,
                inUse ? GoqErrorKind.ResourceUnavailable : GoqErrorKind.Connection,
                inUse ? $"cannot listen on {endpoint}: the port is already in use" : $"cannot listen on {endpoint}: {ex.Message}", ex)
            { Target = endpoint };
        }
    }

    private void RunLoop()
    {
        try
        {
            _scheduler.Serving(Instant.Now);
            _outage.SpaceShort(); // a server started on a full disk says so at once (Get-GoqServer, Start-GoqServer)
            StartMetrics();
            _poller.Run();
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _failed, ex.Message);
            _options.Log(LogEntry.Error("server.loop_failed", $"server loop failed: {ex}"));
        }
        finally
        {
            try
            {
                if (_steppedDown is null)
                {
                    _store.Commit();
                }
            }
            catch (Exception ex)
            {
                _options.Log(LogEntry.Error("store.commit_failed", $"final commit failed: {ex.Message}"));
            }

            if (_stopRequested && _steppedDown is null)
            {
                TellWorkersStopping();
            }

            _poller.Dispose();
            _router.Dispose();
            _pageReads?.Dispose();
            _options.Log(LogEntry.Info("server.stopped", "goq server stopped"));
            _completion.TrySetResult();
        }
    }

    private void OnReceiveReady()
    {
        if (LeaseLost())
        {
            return;
        }

        // Drain what is ready, apply it, commit once, then send: the group-commit turn.
        var message = new NetMQMessage();
        for (var i = 0; i < MaxBatch && _router.TryReceiveMultipartMessage(ref message); i++)
        {
            Handle(message);
            message = new NetMQMessage();
        }

        ReadAhead();
        _output.SyncToDisk(); // Checkpoint: output lines on disk before the commit that counts them and the acks below.
        PlanOutputs();
        CommitTurn(); // Checkpoint: everything replied below is durable from here on.
        ReadPages();
        Flush();
        if (_stopRequested)
        {
            _poller.StopAsync();
        }
    }

    /// <summary>Hands this turn's pages to the reader, now that the turn is committed (read your writes).</summary>
    private void ReadPages()
    {
        foreach (var page in _pagesToRead)
        {
            _pageReads!.Read(page);
        }

        _pagesToRead.Clear();
    }

    /// <summary>Finishes the pages whose rows were read and sends them.</summary>
    private void OnPagesRead()
    {
        if (LeaseLost())
        {
            return; // a page read before a pause is not sent after it: the server that serves now answers
        }

        while (_pageReads!.Done.TryDequeue(out var page, TimeSpan.Zero))
        {
            try
            {
                Reply(page.Peer, page.Rid, page.Error is { } error
                    ? new ErrorReply(GoqErrorIds.ServerError, $"reading the job list failed: {error.Message}")
                    : _queries.FinishPage(page, page.Stored!));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _options.Log(LogEntry.Error("jobs.page_failed", $"error finishing a page of jobs: {ex}"));
                Reply(page.Peer, page.Rid, new ErrorReply(GoqErrorIds.ServerError, ex.Message));
            }
        }

        Flush();
    }

    /// <summary>Places the output of the jobs being dispatched, in this turn's commit: before any of their lines can come.</summary>
    private void PlanOutputs()
    {
        foreach (var job in _scheduler.Dispatched(_effects.Pending))
        {
            _output.Plan(job);
            if (job.WorkerId is { } worker && _sameHostWorkers.Contains(worker))
            {
                _output.Prepare(job, job.Attempts); // committed with the dispatch: the worker writes the file itself
            }
        }
    }

    /// <summary>
    /// The read step after the turn's events: waiting jobs the scheduler keeps by their place alone and found at the head
    /// of their class are read back from the store, and handed out (each round can find more: bounded, the next turn
    /// goes on).
    /// </summary>
    private void ReadAhead()
    {
        for (var round = 0; round < 64 && _scheduler.ReadAhead(_store, Instant.Now); round++)
        {
        }
    }

    private void OnTick()
    {
        if (LeaseLost())
        {
            return;
        }

        var orphans = _scheduler.OrphanedJobs;
        _scheduler.Tick(Instant.Now);
        ReadAhead();
        if (_scheduler.OrphanedJobs < orphans)
        {
            _options.Log(LogEntry.Warning("jobs.requeued_after_grace", $"{orphans - _scheduler.OrphanedJobs} jobs found running at start-up were queued again: their workers did not come back within the restart grace"));
        }

        _output.ForgetPlans(id => _scheduler.GetJob(id) is not null);
        PlanOutputs();
        CommitTurn(); // Checkpoint: re-queued and failed jobs are durable before anything is sent about them.
        Flush();
        PublishMetrics();
    }

    /// <summary>
    /// Checkpoint (fencing): a server whose lease is no longer held steps down before it handles anything more. A
    /// server paused past its lease (a long GC, a stalled VM, SIGSTOP) wakes here, and what it had staged is never
    /// committed or answered: the clients send again, to the server that took over.
    /// </summary>
    private bool LeaseLost()
    {
        if (_steppedDown is not null)
        {
            return true;
        }

        if (_options.Lease is not { IsHeld: false } lease)
        {
            return false;
        }

        StepDown($"its lease (epoch {lease.Epoch}) ran out before it could be renewed");
        return true;
    }

    /// <summary>Stops serving at once, for the server that takes over: nothing more is committed or sent.</summary>
    private void StepDown(string reason)
    {
        if (_steppedDown is not null)
        {
            return;
        }

        Volatile.Write(ref _steppedDown, reason);
        _store.Abandon(); // what it staged is neither stored nor told: the server that serves next decides again
        _outbox.Clear();
        _effects.Take();
        _heldBack.Clear();
        _options.Log(LogEntry.Warning("server.stepped_down", $"this server steps down and serves no more: {reason}"));
        _poller.StopAsync();
    }

    private void Handle(NetMQMessage message)
    {
        if (message.FrameCount < 1)
        {
            _droppedMalformed++;
            return;
        }

        var peer = PeerId.FromIdentity(message[0].ToByteArray());
        Envelope envelope;
        int jsonBytes;
        SigningKey? signer;
        try
        {
            envelope = _wire.Open(message, 1, out jsonBytes, out signer);
        }
        catch (GoqException ex)
        {
            var count = ex.ErrorId switch
            {
                GoqErrorIds.BadSignature => ++_droppedBadSignatures,
                GoqErrorIds.ReplayedMessage or GoqErrorIds.ClockSkew => ++_droppedReplays,
                _ => ++_droppedMalformed,
            };
            if (count <= 10 || count % 1000 == 0)
            {
                _options.Log(LogEntry.Warning("message.dropped", $"dropped a message from {peer} ({count} of this kind so far): {ex.Message}"));
            }

            // Tell a peer with the wrong secret, a clock far off or another protocol version why nobody answers it, so
            // it fails at once instead of timing out. It cannot verify this reply (another secret, a stamp outside its
            // window, another version), but it came over CURVE, so only the real server can have sent it. Rate limited: a flood of bad messages never becomes
            // a flood of replies.
            var refusal = ex.ErrorId switch
            {
                GoqErrorIds.BadSignature => new ErrorReply(GoqErrorIds.CredentialsRejected,
                    "the server did not accept our credentials: this home's cluster secret (or user key) is not one of the server's", GoqErrorKind.Security),
                GoqErrorIds.ClockSkew => new ErrorReply(GoqErrorIds.ClockSkew, ex.Message, GoqErrorKind.Security),
                GoqErrorIds.ProtocolVersionMismatch => new ErrorReply(GoqErrorIds.ProtocolVersionMismatch, ex.Message),
                _ => null,
            };
            if (refusal is not null && _rejections.TryTake(Environment.TickCount64))
            {
                Reply(peer, 0, refusal);
            }

            return;
        }

        // Checkpoint (identity): who sent it is the key that signed it; a revoked key's holder is told, and nothing else.
        var who = _access.Sender(peer, signer, Instant.Now.Wall.ToUnixTimeMilliseconds());
        if (signer is { Revoked: true })
        {
            Reply(peer, envelope.Rid, _access.Revoked(who, envelope.Body.GetType().Name));
            return;
        }

        try
        {
            _frameBytes = jsonBytes;
            Apply(peer, envelope, who);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A message that makes a handler throw is answered with an error, never allowed to stop the loop.
            _options.Log(LogEntry.Error("message.handler_failed", $"error handling {envelope.Body.GetType().Name}: {ex}"));
            if (envelope.Rid != 0)
            {
                Reply(peer, envelope.Rid, new ErrorReply(GoqErrorIds.ServerError, ex.Message));
            }
        }
    }
}
