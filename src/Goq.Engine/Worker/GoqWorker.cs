using Goq.Protocol;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.Worker;

/// <summary>
/// A worker process's engine: one DEALER socket owned by one poller thread, up to <c>Slots</c> jobs at once.
/// Jobs run on the thread pool; what they produce comes back to the socket thread through a queue, so output
/// chunks of a job are always sent before the report that it finished.
/// </summary>
public sealed class GoqWorker : IDisposable
{
    private const int MaxLinesPerChunk = 2000;
    private const int MaxCharsPerChunk = 1024 * 1024;

    private readonly GoqWorkerOptions _options;
    private readonly JobRunner _runner;
    private readonly DealerSocket _dealer;
    private readonly WireCodec _wire;
    private readonly NetMQQueue<Action> _inbox = new();
    private readonly NetMQTimer _heartbeat;
    private readonly NetMQTimer _flush;
    private readonly NetMQPoller _poller;
    private readonly Dictionary<long, RunningJob> _running = new();
    private readonly Dictionary<(long JobId, int Attempt), JobFinished> _unacked = new();
    private readonly Dictionary<(long JobId, int Attempt), RunningJob> _ended = new();
    private readonly JobLedger? _ledger;
    private string? _dispatchEpoch;
    private long _lastDispatch;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _exiting;
    private Exception? _failure;
    private bool _drain;
    private int _jobsDone;
    private int _started;

    public GoqWorker(GoqWorkerOptions options)
    {
        _options = options;
        _runner = new JobRunner(options.Runner with { Withheld = [.. options.Runner.Withheld, options.Credentials.SecretText] });
        _ledger = options.LedgerDirectory is { } dir && JobLedger.IsSupported ? new JobLedger(dir, options.WorkerId, options.Log) : null;
        _wire = new WireCodec(options.Credentials.Secret, options.ReplayWindow);
        _dealer = new DealerSocket();
        CurveSetup.AsClient(_dealer, options.Credentials);
        _dealer.Options.Linger = TimeSpan.FromSeconds(2);
        _dealer.Options.MaxMsgSize = FrameCodec.MaxMessageBytes + 1024;
        _dealer.Options.SendHighWatermark = 100_000;
        _dealer.ReceiveReady += (_, _) => OnReceiveReady();
        _inbox.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var action, TimeSpan.Zero))
            {
                action();
            }
        };
        _heartbeat = new NetMQTimer(options.HeartbeatMs);
        // The heartbeat is the full announcement, so a server that restarted (or lost us) learns who we are from it.
        _heartbeat.Elapsed += (_, _) => Heartbeat();
        _flush = new NetMQTimer(options.OutputFlushMs);
        _flush.Elapsed += (_, _) => FlushAll();
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

        _ledger?.SweepOrphans();
        _dealer.Connect(_options.Endpoint);
        Send(Hello());
        _options.Log($"goq worker {Id} (pid {Environment.ProcessId}, {_options.Slots} slots{(_options.OneShot ? ", one job" : "")}) serving {_options.Endpoint}");
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
            _inbox.Enqueue(() => BeginExit(drain));
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
        _inbox.Dispose();
    }

    private WorkerHello Hello() => new(Id, Environment.MachineName, Environment.ProcessId, Math.Max(1, _options.Slots),
        RunningRefs(), GoqVersion.Current, _options.OneShot, _dispatchEpoch, _lastDispatch);

    private void Heartbeat()
    {
        Send(Hello());
        foreach (var job in _running.Values.Concat(_ended.Values))
        {
            // Output not yet acknowledged may have been lost with a connection or a server: send it again.
            var from = job.AckedLines;
            foreach (var chunk in Chunks(job.Unacked))
            {
                Send(new JobOutput(Id, job.JobId, job.Attempt, chunk, from));
                from += chunk.Count;
            }
        }

        foreach (var report in _unacked.Values)
        {
            Send(report); // not yet acknowledged: perhaps lost with a server that went down
        }
    }

    // Jobs whose end the server has not acknowledged are still ours: listing them keeps the server from thinking
    // their dispatch was lost before the re-sent report reaches it.
    private List<RunningJobRef> RunningRefs() =>
        _running.Values.Select(j => new RunningJobRef(j.JobId, j.Attempt))
            .Concat(_unacked.Keys.Select(k => new RunningJobRef(k.JobId, k.Attempt)))
            .ToList();

    private void RunLoop()
    {
        try
        {
            _poller.Run();
        }
        catch (Exception ex)
        {
            _options.Log($"worker loop failed: {ex}");
        }
        finally
        {
            _poller.Dispose();
            _dealer.Dispose();
            _ledger?.Remove();
            _options.Log($"goq worker {Id} exited after {_jobsDone} jobs");
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

    private void OnReceiveReady()
    {
        var message = new NetMQMessage();
        while (_dealer.TryReceiveMultipartMessage(ref message))
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
                _options.Log("the server did not accept our credentials: this home's cluster secret is not the server's; exiting");
                _failure = new Errors.GoqException(Errors.GoqErrorIds.CredentialsRejected, Errors.GoqErrorKind.Security,
                    "the server did not accept this worker's credentials: the home's cluster secret (.goq/cluster.secret) is not the server's");
                BeginExit(drain: false);
                return;
            }
            catch (Errors.GoqException ex)
            {
                _options.Log($"dropped a message from the server: {ex.Message}");
                message = new NetMQMessage();
                continue;
            }

            switch (envelope.Body)
            {
                case DispatchJob dispatch:
                    if (dispatch.Epoch != _dispatchEpoch)
                    {
                        _dispatchEpoch = dispatch.Epoch;
                        _lastDispatch = 0;
                    }

                    _lastDispatch = Math.Max(_lastDispatch, dispatch.Seq);
                    foreach (var ack in dispatch.Acks ?? [])
                    {
                        Acknowledged(ack.JobId, ack.Attempt);
                    }

                    StartJob(dispatch);
                    break;
                case ShutdownWorker shutdown:
                    _options.Log($"the server asked this worker to exit{(shutdown.Drain ? " after its jobs" : "")}");
                    BeginExit(shutdown.Drain);
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
                        _options.Log($"cancelling job {cancel.JobId}");
                        target.Cancel.Cancel();
                    }

                    break;
                case WorkerHelloReply reply:
                    // The server's heartbeat wins: it is the one that decides when we count as dead.
                    if (reply.HeartbeatMs > 0 && reply.HeartbeatMs != _heartbeat.Interval)
                    {
                        _heartbeat.Interval = Math.Max(100, reply.HeartbeatMs);
                    }

                    break;
                default:
                    _options.Log($"ignored an unexpected {envelope.Body.GetType().Name}");
                    break;
            }

            message = new NetMQMessage();
        }
    }

    private void StartJob(DispatchJob dispatch)
    {
        if (_exiting || _running.ContainsKey(dispatch.JobId))
        {
            return;
        }

        var job = new RunningJob(dispatch.JobId, dispatch.Attempt);
        _running[job.JobId] = job;
        _options.Log($"starting job {job.JobId} (attempt {job.Attempt}): {dispatch.Spec.Command}");
        // Started here on the socket thread (building the environment and spawning take a fraction of a millisecond);
        // the rest runs where the job's end is seen, and hands the result back through the inbox.
        _ = RunAsync();

        async Task RunAsync()
        {
            JobOutcome outcome;
            try
            {
                outcome = await _runner.RunAsync(
                    dispatch.Spec,
                    (pid, at) => job.Started = new RunningJob.Start(pid, at), // sent by the next output flush, or with the end if that comes first
                    line => job.Pending.Enqueue(line),
                    job.Cancel.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The runner turns job failures into outcomes; this is a bug in the worker, reported as a failure.
                outcome = new JobOutcome(JobState.Failed, null, $"worker error: {ex.Message}", null, null, DateTimeOffset.UtcNow);
            }

            _inbox.Enqueue(() => FinishJob(job, outcome));
        }
    }

    private void Acknowledged(long jobId, int attempt)
    {
        _unacked.Remove((jobId, attempt));
        _ended.Remove((jobId, attempt));
    }

    private void AcknowledgeOutput(OutputAck ack)
    {
        var job = _running.GetValueOrDefault(ack.JobId) is { } running && running.Attempt == ack.Attempt
            ? running
            : _ended.GetValueOrDefault((ack.JobId, ack.Attempt));
        if (job is null || ack.Lines <= job.AckedLines)
        {
            return;
        }

        var count = (int)Math.Min(job.Unacked.Count, ack.Lines - job.AckedLines);
        job.Unacked.RemoveRange(0, count);
        job.AckedLines += count;
    }

    private void FinishJob(RunningJob job, JobOutcome outcome)
    {
        job.StartReported = true; // the end carries the start: one message and one commit fewer for short jobs
        FlushJob(job);
        _running.Remove(job.JobId);
        job.Cancel.Dispose();
        _jobsDone++;
        _options.Log($"done with job {job.JobId}: {outcome.State}{(outcome.ExitCode is { } code ? $" (exit code {code})" : "")}");
        if (!(_exiting && !_drain))
        {
            var report = new JobFinished(Id, job.JobId, job.Attempt, outcome.State, outcome.ExitCode, outcome.Reason, outcome.StartedAt, outcome.FinishedAt, outcome.Pid, job.SentLines);
            _unacked[(job.JobId, job.Attempt)] = report;
            _ended[(job.JobId, job.Attempt)] = job;
            Send(report);
        }

        if (_options.OneShot && !_exiting)
        {
            BeginExit(drain: true);
        }
        else if (_exiting && _running.Count == 0)
        {
            Exit();
        }
    }

    private void BeginExit(bool drain)
    {
        _exiting = true;
        _drain = drain;
        if (!drain)
        {
            foreach (var job in _running.Values)
            {
                job.Cancel.Cancel();
            }
        }

        if (_running.Count == 0)
        {
            Exit();
        }
    }

    private void Exit()
    {
        // Killed jobs are not reported as finished: the goodbye makes the server queue them again.
        Send(new WorkerBye(Id));
        _poller.StopAsync();
    }

    private void FlushAll()
    {
        foreach (var job in _running.Values)
        {
            FlushJob(job);
        }

        // Jobs that end within one period are never recorded; only those that could outlive us matter.
        _ledger?.Record(_running.Values.Where(j => j.Started is not null).Select(j => (j.JobId, j.Started!.Pid)));
    }

    private void FlushJob(RunningJob job)
    {
        if (!job.StartReported && job.Started is { } started)
        {
            job.StartReported = true;
            Send(new JobStarted(Id, job.JobId, job.Attempt, started.Pid, started.At));
        }

        var pending = new List<OutputLine>();
        while (job.Pending.TryDequeue(out var line))
        {
            pending.Add(line);
        }

        foreach (var chunk in Chunks(pending))
        {
            Send(new JobOutput(Id, job.JobId, job.Attempt, chunk, job.SentLines));
            job.Unacked.AddRange(chunk);
        }
    }

    /// <summary>Splits lines into messages well under the size limit.</summary>
    private static IEnumerable<List<OutputLine>> Chunks(IReadOnlyList<OutputLine> lines)
    {
        var chunk = new List<OutputLine>();
        var chars = 0;
        foreach (var line in lines)
        {
            if (chunk.Count > 0 && (chunk.Count >= MaxLinesPerChunk || chars + line.Text.Length > MaxCharsPerChunk))
            {
                yield return chunk;
                chunk = [];
                chars = 0;
            }

            chunk.Add(line);
            chars += line.Text.Length;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private void Send(GoqMessage message)
    {
        if (!_dealer.TrySendMultipartMessage(_wire.ToServer(message)))
        {
            _options.Log($"could not queue a {message.GetType().Name} for the server");
        }
    }
}
