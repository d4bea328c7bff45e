using Goq.Protocol;
using Goq.Timing;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;
using Goq.Diagnostics;
using Goq.Platform;

namespace Goq.Worker;

// Over 400 lines (and the class over its partial files): the worker's socket loop owns every job's state; issue 27
// splits it into types with their own state (jobs and their output, the keeper link, joining). What it keeps of its
// conversation with the server (hello, dispatch numbers, ends until acknowledged) is out already, in WorkerSession.
/// <summary>
/// A worker process's engine: one DEALER socket owned by one poller thread, up to <c>Slots</c> jobs at once.
/// Jobs are started on the socket thread and read by the shared <see cref="JobIoLoop"/>; what they produce comes back
/// to the socket thread through a queue, so output chunks of a job are always sent before the report that it finished.
/// </summary>
public sealed partial class GoqWorker : IDisposable
{
    // A message of short lines (`seq`: 8 bytes each) carries as many as fit: each message costs a signature, two CURVE
    // hops and a server turn whatever it holds.
    private const int MaxLinesPerChunk = 100_000;
    private const int MaxCharsPerChunk = 1024 * 1024;

    /// <summary>Pending output (in budget cost) at which a running job's lines are sent without waiting for the flush tick.</summary>
    private long FlushAtCost => Math.Min(_options.JobOutputBudget / 4, 2L * MaxCharsPerChunk);

    private readonly GoqWorkerOptions _options;
    private readonly JobRunner _runner;
    private readonly DealerSocket _dealer;
    private ServerLink? _servers; // direct to the server (no keeper): _dealer first, a socket more for each other server
    private readonly WireCodec _wire;
    private readonly NetMQQueue<WorkerCommand> _inbox = new();
    private readonly NetMQTimer _heartbeat;
    private readonly NetMQTimer _flush;
    private readonly NetMQPoller _poller;
    private readonly Dictionary<long, RunningJob> _running = new();
    private readonly Dictionary<(long JobId, int Attempt), RunningJob> _ended = new();
    private readonly JobLedger? _ledger;
    private KeeperSentinel? _sentinel;

    // The hello, the dispatch numbers, and the ends (our own, and those adopted from dead workers on this host, see
    // JobLedger.SweepOrphans) kept until the server acknowledges them.
    private readonly WorkerSession _session;
    private readonly OutputBudget _outputBudget;
    private readonly PrefetchQueue _ahead;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _exiting;
    private Exception? _failure;
    private bool _joined; // a message from the server has been read: it took our hello (owned by the poller thread)
    private bool _drain;
    private int _jobsDone;
    private int _started;

    public GoqWorker(GoqWorkerOptions options)
    {
        _options = options;
        _runner = new JobRunner(options.Runner with { Withheld = [.. options.Runner.Withheld, options.Credentials.SecretText] });
        _ledger = options.LedgerDirectory is { } dir && JobLedger.IsSupported ? new JobLedger(dir, options.WorkerId, options.Log) : null;
        _wire = new WireCodec(options.Credentials.Secret, options.ReplayWindow, keyId: options.Credentials.KeyId);
        _outputBudget = OutputBudget.ForWorker(options.WorkerOutputBudget);
        _ahead = new PrefetchQueue(options.PrefetchHold);
        _session = new WorkerSession(options.WorkerId, Environment.MachineName, Slots, options.OneShot, options.EffectivePrefetch, options.Queues,
            options.Labels, HostKey.Current);
        _dealer = new DealerSocket();
        if (options.Keeper is not null)
        {
            _keeperKeys = Configuration.ClusterCredentials.Generate();
            CurveSetup.AsServer(_dealer, _keeperKeys); // only a relay given our public key (a 0600 file) can connect
        }
        else
        {
            CurveSetup.AsClient(_dealer, options.Credentials);
        }

        _dealer.Options.Linger = TimeSpan.FromSeconds(2);
        _dealer.Options.MaxMsgSize = FrameCodec.MaxMessageBytes + 1024;
        _dealer.Options.SendHighWatermark = 100_000;
        _dealer.ReceiveReady += (_, e) => OnReceiveReady(e.Socket);
        _inbox.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var command, TimeSpan.Zero))
            {
                Handle(command);
            }
        };
        _heartbeat = new NetMQTimer(options.HeartbeatMs);
        // The heartbeat is the full announcement, so a server that restarted (or lost us) learns who we are from it.
        _heartbeat.Elapsed += (_, _) => Heartbeat();
        _flush = new NetMQTimer(options.OutputFlushMs);
        _flush.Elapsed += (_, _) =>
        {
            FlushAll();
            ReturnStale();
        };
        _poller = new NetMQPoller { _dealer, _inbox, _heartbeat, _flush };
    }

    public string Id => _options.WorkerId;

    /// <summary>Completes when the worker has exited (told to, one-shot done, or stopped).</summary>
    public Task Completion => _completion.Task;

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("the worker was already started");
        }

        if (_ledger is not null)
        {
            _sentinel = KeeperSentinel.Start(_ledger.FilePath, out var why);
            if (_sentinel is null)
            {
                _options.Log(LogEntry.Warning("worker.no_sentinel", $"no sentinel ends this worker's jobs if it is killed ({why}); the next worker on the host does"));
            }
        }

        if (_options.Keeper is { } keeper)
        {
            Adopt(_ledger?.SweepOrphans()); // sent with the first heartbeat, before the hello, once a relay carries them
            PublishKeeper(keeper); // the hello waits for a relay
        }
        else
        {
            _servers = new ServerLink(_options.Endpoint, socket =>
            {
                CurveSetup.AsClient(socket, _options.Credentials);
                socket.Options.Linger = _dealer.Options.Linger;
                socket.Options.MaxMsgSize = _dealer.Options.MaxMsgSize;
                socket.Options.SendHighWatermark = _dealer.Options.SendHighWatermark;
                socket.ReceiveReady += (_, e) => OnReceiveReady(e.Socket);
            }, first: _dealer);
            foreach (var socket in _servers.Sockets.Skip(1))
            {
                _poller.Add(socket);
            }

            _servers.Connect();
            Adopt(_ledger?.SweepOrphans()); // before the hello (see Heartbeat)
            Send(Hello());
        }

        _options.Log(LogEntry.Info("worker.started", $"goq worker {Id} (pid {Environment.ProcessId}, {_options.Slots} slots{(_options.OneShot ? ", one job" : "")}) serving {_options.Endpoint}"));
        new Thread(RunLoop) { IsBackground = true, Name = "goq-worker" }.Start();
    }

    /// <summary>Stops: kills running jobs (or, with <paramref name="drain"/>, lets them finish), says goodbye, exits.</summary>
    public void Stop(bool drain = false)
    {
        if (Volatile.Read(ref _started) == 0)
        {
            _completion.TrySetResult();
            return;
        }

        if (_completion.Task.IsCompleted)
        {
            return;
        }

        try
        {
            _inbox.Enqueue(new WorkerCommand.Exit(drain));
        }
        catch (ObjectDisposedException)
        {
            // Already exited.
        }

        ((IAsyncResult)_completion.Task).AsyncWaitHandle.WaitOne(); // an exit with a failure is reported by Completion, not here
    }

    public void Dispose()
    {
        Stop();
        _runner.Dispose();
        _inbox.Dispose();
    }

    private int Slots => Math.Max(1, _options.Slots);

    // The jobs taken ahead are ours too; after them, the session lists those whose end the server has not acknowledged.
    private WorkerHello Hello() => _session.Hello(_relay?.Pid ?? Environment.ProcessId,
        _running.Values.Select(j => new RunningJobRef(j.JobId, j.Attempt)).Concat(_ahead.Jobs.Select(d => new RunningJobRef(d.JobId, d.Attempt))));

    private void Heartbeat()
    {
        if (_options.Keeper is not null && KeeperShouldGiveUp())
        {
            return;
        }

        // Ends found in a dead worker's ledger go before our hello: a hello can bring a dispatch, and the server must
        // have taken such an end before it hands that job out again (it may have queued it again, the dead worker gone).
        foreach (var report in _session.AdoptedEnds)
        {
            Send(report);
        }

        // Another worker on this host may have died (kill -9) with jobs running: end them now, not only when the next
        // worker starts here, so the server's re-run of those jobs never runs beside the abandoned copy for long.
        Adopt(_ledger?.SweepOrphans());
        Send(Hello());
        // Processes ended jobs left behind out of their groups (a daemon's double fork): one pass a heartbeat, here on
        // the socket thread, where the jobs that run are known exactly.
        if (JobLedger.IsSupported && JobProcesses.KillLeftovers(Id, (job, attempt) => _running.TryGetValue(job, out var r) && r.Attempt == attempt) is > 0 and var killed)
        {
            _options.Log(LogEntry.Info("job.leftovers_killed", $"killed {killed} processes that ended jobs left behind"));
        }

        foreach (var job in _running.Values.Concat(_ended.Values))
        {
            // Output not yet acknowledged may have been lost with a connection or a server: send it again.
            SendWritten(job);
            var from = job.AckedLines;
            foreach (var chunk in Chunks(job.Unacked))
            {
                Send(new JobOutput(Id, job.JobId, job.Attempt, chunk, from));
                from += chunk.Count;
            }
        }

        foreach (var report in _session.UnacknowledgedEnds)
        {
            Send(report); // not yet acknowledged: perhaps lost with a server that went down
        }

        if (_byeBy is not null)
        {
            Exit(); // waiting for acknowledgements before the goodbye: perhaps long enough now
        }
    }

    private void Adopt(IReadOnlyList<JobFinished>? ends)
    {
        foreach (var end in ends ?? [])
        {
            Send(_session.Adopt(end));
        }
    }

    private void RunLoop()
    {
        try
        {
            _poller.Run();
        }
        catch (Exception ex)
        {
            _options.Log(LogEntry.Error("worker.loop_failed", $"worker loop failed: {ex}"));
        }
        finally
        {
            _poller.Dispose();
            if (_servers is not null)
            {
                _servers.Dispose(); // _dealer with it
            }
            else
            {
                _dealer.Dispose();
            }
            _ledger?.Remove();
            _sentinel?.Dispose(); // after the ledger: it finds none and exits
            RemoveKeeperInfo();
            _options.Log(LogEntry.Info("worker.exited", $"goq worker {Id} exited after {_jobsDone} jobs"));
            if (_failure is not null)
            {
                _completion.TrySetException(_failure);
            }
            else
            {
                _completion.TrySetResult();
            }
        }
    }

    private void OnReceiveReady(NetMQSocket socket)
    {
        var message = new NetMQMessage();
        while (socket.TryReceiveMultipartMessage(ref message))
        {
            Envelope envelope;
            try
            {
                envelope = _wire.Open(message, 0);
            }
            catch (Errors.GoqException ex) when (ex.ErrorId == Errors.GoqErrorIds.BadSignature)
            {
                // Only the server can talk to us over CURVE, so a message we cannot verify means our secrets differ:
                // nothing will ever be accepted, so exit with the reason instead of idling forever.
                _options.Log(LogEntry.Error("worker.credentials_rejected", "the server did not accept our credentials: this home's cluster secret is not the server's; exiting"));
                _failure = new Errors.GoqException(Errors.GoqErrorIds.CredentialsRejected, Errors.GoqErrorKind.Security,
                    "the server did not accept this worker's credentials: the home's cluster secret (.goq/cluster.secret) is not the server's");
                BeginExit(drain: false);
                return;
            }
            catch (Errors.GoqException ex) when (!_joined && ex.ErrorId is Errors.GoqErrorIds.ClockSkew or Errors.GoqErrorIds.ProtocolVersionMismatch)
            {
                // Checkpoint: a worker that has not joined cannot, ever: the server refuses what we send (its answer is
                // stamped outside our window, or in another protocol version). It exits with the reason, keeper
                // included, so a supervisor that retries does not pile up workers that only fill their logs.
                CannotJoin(new Errors.GoqException(ex.ErrorId, ex.Kind, $"the Goq server at {_options.Endpoint} and this worker refuse each other's messages: {ex.Message}", ex));
                return;
            }
            catch (Errors.GoqException ex)
            {
                // A clock skew of a worker that has joined is logged like the rest: once the clocks agree again, it
                // carries on (its running jobs matter more).
                _options.Log(LogEntry.Warning("message.dropped", $"dropped a message from the server: {ex.Message}"));
                message = new NetMQMessage();
                continue;
            }

            if (envelope.Body is ErrorReply refused && !_joined)
            {
                if (RefusesJoining(refused))
                {
                    CannotJoin(new Errors.GoqException(refused.ErrorId, refused.Kind, $"the Goq server at {_options.Endpoint} refused this worker: {refused.Message}"));
                    return;
                }

                // Not a refusal of this worker: a failure of one request (ServerError), or a ClockSkew for a stale
                // message (a hello queued while the server was down, delivered after the replay window). The next
                // hello is answered on its own merits.
                _options.Log(LogEntry.Warning("worker.error_reply", $"the server answered with {refused.ErrorId} before this worker joined: {refused.Message}; trying again"));
                message = new NetMQMessage();
                continue;
            }

            _joined |= envelope.Body is not (ErrorReply or RelayHello); // a relay's hello is not the server's

            switch (envelope.Body)
            {
                case DispatchJob dispatch:
                    foreach (var ack in _session.Dispatched(dispatch))
                    {
                        Acknowledged(ack.JobId, ack.Attempt);
                    }

                    Accept(dispatch);
                    break;
                case ShutdownWorker shutdown:
                    _options.Log(LogEntry.Info("worker.shutdown_requested", $"the server asked this worker to exit{(shutdown.Drain ? " after its jobs" : "")}"));
                    BeginExit(shutdown.Drain);
                    break;
                case ServerStopping stopping:
                    _options.Log(LogEntry.Warning("server.stopping",
                        $"the server is stopping ({stopping.Reason}); {_running.Count} running jobs go on, their ends are kept until it is back, and this worker rejoins it then"));
                    break;
                case JobFinishedAck ack:
                    Acknowledged(ack.JobId, ack.Attempt);
                    break;
                case OutputAck outputAck:
                    AcknowledgeOutput(outputAck);
                    break;
                case CancelJob cancel:
                    if (_running.TryGetValue(cancel.JobId, out var target) && target.Attempt == cancel.Attempt)
                    {
                        _options.Log(LogEntry.Info("job.cancelling", $"cancelling job {cancel.JobId}", job: cancel.JobId));
                        target.Cancel.Cancel();
                    }
                    else if (_ahead.Remove(cancel.JobId, cancel.Attempt))
                    {
                        CancelledAhead(cancel.JobId, cancel.Attempt);
                    }

                    break;
                case RelayHello relay when _options.Keeper is not null:
                    RelayAttached(relay);
                    break;
                case WorkerHelloReply reply:
                    // The server's heartbeat wins: it is the one that decides when we count as dead.
                    if (reply.HeartbeatMs > 0 && reply.HeartbeatMs != _heartbeat.Interval)
                    {
                        _heartbeat.Interval = Math.Max(100, reply.HeartbeatMs);
                    }

                    if (_session.Answered(reply))
                    {
                        // A server run we have not heard from before (a restart): everything the one before sent has
                        // reached us by now, so a hello made now lists every job we hold; send it at once, so the jobs
                        // it finds running are settled in a round trip, not at our next heartbeat.
                        Heartbeat();
                    }

                    break;
                default:
                    _options.Log(LogEntry.Warning("message.unexpected", $"ignored an unexpected {envelope.Body.GetType().Name}"));
                    break;
            }

            message = new NetMQMessage();
        }
    }

    /// <summary>
    /// Whether an error the server sent before this worker joined means it never can. A ClockSkew counts only when the
    /// clocks are really apart: this reply opened, so its stamp is inside our replay window and the clocks agree, hence
    /// the message the server refused was a stale one (queued while it was down), not the current hello. (A server with
    /// a clock really off is caught when its reply fails our own check, in OnReceiveReady.) A refusal of a message the
    /// server could not open carries no request id, so it cannot be matched to a hello by id.
    /// </summary>
    internal static bool RefusesJoining(ErrorReply reply) =>
        reply.ErrorId is Errors.GoqErrorIds.WorkerStartFailed or Errors.GoqErrorIds.ProtocolVersionMismatch or Errors.GoqErrorIds.CredentialsRejected;

    /// <summary>The worker cannot join the server: it exits, and <see cref="Completion"/> fails with the reason.</summary>
    private void CannotJoin(Errors.GoqException reason)
    {
        _options.Log(LogEntry.Error("worker.refused", $"{reason.Message}; exiting"));
        _failure = reason;
        BeginExit(drain: false);
    }

    /// <param name="why">What the output of a job killed by it says happened (its goodbye has the server queue it again).</param>
    private void BeginExit(bool drain, string why = "its worker stopped, and the job is queued again")
    {
        _exiting = true;
        _drain = drain;
        ReturnStale(all: true); // jobs taken ahead never started: back to the queue, wherever we exit
        if (!drain)
        {
            foreach (var job in _running.Values)
            {
                job.CancelledBecause = why;
                job.Cancel.Cancel();
            }
        }

        if (_running.Count == 0 && !_session.EndsWaiting)
        {
            Exit();
        }
    }

    private void Exit()
    {
        if (_byeSent)
        {
            return;
        }

        // Ends the server has not acknowledged (it may be unable to store them: a full disk) are waited for, a few
        // heartbeats at most: a goodbye before them would have it queue those jobs again. What is still not
        // acknowledged then stays in the ledger for the next worker on the host.
        if (_session.AwaitsAcks && !(_options.Keeper is not null && _relay is null))
        {
            _byeBy ??= Deadline.In(TimeSpan.FromMilliseconds(3 * _options.HeartbeatMs));
            if (!_byeBy.Value.Passed)
            {
                return; // Acknowledged and Heartbeat come back here
            }
        }

        // Killed jobs are not reported as finished: the goodbye makes the server queue them again.
        _byeSent = true;
        Send(_session.Bye());
        _poller.StopAsync();
    }

    private Deadline? _byeBy; // set once Exit waits for acknowledgements
    private bool _byeSent;

    private void Send(GoqMessage message)
    {
        if (_options.Keeper is not null && _relay is null)
        {
            return; // no relay to carry it: whatever matters is sent again once one comes (heartbeat)
        }

        var wire = _wire.ToServer(message);
        if (!(_servers?.TrySend(wire) ?? _dealer.TrySendMultipartMessage(wire)))
        {
            _options.Log(LogEntry.Warning("message.not_queued", $"could not queue a {message.GetType().Name} for the server"));
        }
    }
}
