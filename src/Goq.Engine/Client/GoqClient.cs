using Goq.Timing;
using System.Collections.Concurrent;
using Goq.Errors;
using Goq.Protocol;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.Client;

// Over 400 lines: one request/reply client with its paging and waits (submit batching is SubmitBatcher's); the waits
// are the part to make a type of their own next.
/// <summary>
/// A connection to a server, for submitters and watchers. One DEALER socket owned by one poller thread; callers on
/// any thread send through a queue and await replies matched by request id. A request that gets no answer within
/// the timeout fails with <see cref="GoqErrorIds.ServerUnreachable"/> and breaks the client (its queued messages are
/// discarded, so a late server never acts on a request that was reported failed).
/// Over 400 lines because every request kind has its method here (one or two lines each, next to the socket they use);
/// what is more than a request (waiting across restarts, recent jobs, retrying submits) lives in types of its own.
/// </summary>
public sealed class GoqClient : IDisposable
{
    private readonly ServerLink _servers;
    private readonly WireCodec _wire;
    private readonly NetMQQueue<NetMQMessage> _outgoing = new();
    private readonly NetMQPoller _poller;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<GoqMessage>> _pending = new();
    private readonly ConcurrentDictionary<long, Action<JobInfo>> _watches = new();

    // Parts of list replies that came in several messages, joined until the last part (client thread only).
    private readonly Dictionary<long, GoqMessage> _partial = new();
    private readonly byte[] _secret;
    private readonly string _secretText;
    private readonly Identity.UserKey? _user;
    private readonly HeldMessages _held;
    private long _nextRid;
    private volatile GoqException? _rejection;
    private int _disposed;

    public GoqClient(string endpoint, Configuration.ClusterCredentials credentials, int requestTimeoutMs = Configuration.GoqDefaults.RequestTimeoutMs,
        TimeSpan? replayWindow = null, TimeProvider? clock = null)
    {
        Endpoint = endpoint;
        RequestTimeout = TimeSpan.FromMilliseconds(requestTimeoutMs);
        _secretText = credentials.SecretText;
        _user = credentials.User;
        _secret = credentials.Secret;
        _wire = new WireCodec(credentials.Secret, replayWindow ?? TimeSpan.FromSeconds(Configuration.GoqDefaults.ReplayWindowSec), clock, credentials.KeyId);
        _servers = new ServerLink(endpoint, dealer =>
        {
            CurveSetup.AsClient(dealer, credentials);
            dealer.Options.Linger = TimeSpan.Zero;
            dealer.Options.MaxMsgSize = FrameCodec.MaxMessageBytes + 1024;
            dealer.Options.SendHighWatermark = 100_000;
            dealer.Options.ReceiveHighWatermark = 100_000;
            dealer.ReceiveReady += (_, e) => OnReceiveReady(e.Socket);
        });
        _held = new HeldMessages(_servers.TrySend, RequestTimeout);
        _outgoing.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var message, TimeSpan.Zero))
            {
                _held.Send(message);
            }
        };
        _poller = new NetMQPoller { _outgoing, _held.Timer };
        foreach (var dealer in _servers.Sockets)
        {
            _poller.Add(dealer);
        }

        _servers.Connect();
        _poller.RunAsync("goq-client", isBackgroundThread: true);
    }

    /// <summary>A client of a home's server, with the home's credentials, timeout and replay window.</summary>
    public static GoqClient ForHome(Configuration.GoqSettings settings, Configuration.ClusterCredentials? credentials = null, int? requestTimeoutMs = null) =>
        new(settings.Endpoint, credentials ?? settings.LoadCredentials(), requestTimeoutMs ?? settings.RequestTimeoutMs, settings.ReplayWindow);

    public string Endpoint { get; }

    public TimeSpan RequestTimeout { get; }

    /// <summary>False once a request went unanswered, the server refused us, or the client was disposed; make a new one then.</summary>
    public bool IsUsable => Volatile.Read(ref _disposed) == 0 && _rejection is null;

    /// <summary>
    /// Submits a batch. With a <paramref name="batchId"/> the submit is idempotent: the server remembers the id with the
    /// jobs, and a batch sent again (after a lost reply, a server restart) is answered with the same jobs, not new ones.
    /// Every job leaves with its environment prepared by <see cref="SubmitterEnvironment"/>.
    /// </summary>
    public async Task<IReadOnlyList<JobInfo>> SubmitAsync(IReadOnlyList<JobSpec> jobs, CancellationToken cancel = default, string? batchId = null)
    {
        jobs = SubmitterEnvironment.Prepare(jobs, _secretText);

        // One environment for the whole batch (the usual case) is sent once instead of once per job.
        var shared = jobs.Count > 0 ? jobs[0].CapturedEnvironment : null;
        var message = shared is not null && jobs.All(j => ReferenceEquals(j.CapturedEnvironment, shared))
            ? new SubmitJobs(jobs.Select(j => j with { CapturedEnvironment = null }).ToList(), shared, batchId)
            : new SubmitJobs(jobs, null, batchId);
        return (await RequestAsync<SubmitJobsReply>(message, cancel).ConfigureAwait(false)).Jobs;
    }

    /// <summary>One page of jobs with an id above <paramref name="afterId"/> (see <see cref="JobsReply.NextAfterId"/>).</summary>
    public Task<JobsReply> GetJobsPageAsync(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states, long afterId, CancellationToken cancel = default,
        JobFilter? filter = null) =>
        RequestAsync<JobsReply>(new GetJobs(ids, states, afterId, 0, filter is { IsEmpty: false } ? filter : null), cancel);

    /// <summary>Every matching job, page after page (for callers that want them all in memory).</summary>
    public async Task<JobsReply> GetJobsAsync(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states, CancellationToken cancel = default)
    {
        var jobs = new List<JobInfo>();
        var unknown = new List<long>();
        long? after = 0;
        while (after is { } from)
        {
            var page = await GetJobsPageAsync(ids, states, from, cancel).ConfigureAwait(false);
            jobs.AddRange(page.Jobs);
            unknown.AddRange(page.Unknown);
            after = page.NextAfterId;
        }

        return new JobsReply(jobs, unknown);
    }

    /// <summary>The server's counters; with <paramref name="countStates"/> also how many jobs are in each state.</summary>
    public async Task<ServerStatus> GetStatusAsync(CancellationToken cancel = default, bool countStates = false, bool detailed = false, bool all = false)
    {
        var status = (await RequestAsync<ServerStatusReply>(new GetServerStatus(countStates, detailed, all), cancel).ConfigureAwait(false)).Status;
        if (status.MetricsUrl is { } metricsUrl && _user is null) // the dashboard's token is the cluster secret's: a user has none
        {
            // Made here from our own secret: the server never sends the token.
            status.DashboardUrl = Monitoring.MonitorEndpoint.DashboardUrl(metricsUrl, Monitoring.DashboardToken.Derive(_secret));
        }

        return status;
    }

    public async Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancel = default) =>
        (await RequestAsync<WorkersReply>(new GetWorkers(), cancel).ConfigureAwait(false)).Workers;

    /// <summary>Every queue with its counts and throttle limit.</summary>
    public async Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancel = default) =>
        (await RequestAsync<QueuesReply>(new GetQueues(), cancel).ConfigureAwait(false)).Queues;

    /// <summary>Caps how many jobs of a queue run at once cluster-wide (0: no cap); returns the queue.</summary>
    public async Task<QueueInfo> SetQueueAsync(string name, int throttleLimit, CancellationToken cancel = default) =>
        (await RequestAsync<QueuesReply>(new SetQueue(name, throttleLimit), cancel).ConfigureAwait(false)).Queues[0];

    /// <param name="fromOffset">The previous page's <see cref="OutputReply.NextOffset"/>, or -1 to start at a line number alone.</param>
    public Task<OutputReply> ReadOutputAsync(long jobId, long fromLine, int maxLines, CancellationToken cancel = default, long fromOffset = -1, bool records = false) =>
        RequestAsync<OutputReply>(new ReadOutput(jobId, fromLine, maxLines, fromOffset, records), cancel);

    /// <summary>Where a job's output file is and what of it is recorded (see <see cref="Output.LocalOutputReader"/>).</summary>
    public Task<OutputMapReply> GetOutputMapAsync(long jobId, CancellationToken cancel = default, bool records = false) =>
        RequestAsync<OutputMapReply>(new GetOutputMap(jobId, records), cancel);

    /// <summary>A job's recorded output as its file holds it, from <paramref name="offset"/> on (at most a page).</summary>
    public Task<OutputBytesReply> ReadOutputBytesAsync(long jobId, long offset, CancellationToken cancel = default) =>
        RequestAsync<OutputBytesReply>(new ReadOutputBytes(jobId, offset), cancel);

    public Task<StopWorkersReply> StopWorkersAsync(bool idle, IReadOnlyList<string>? ids, bool drain, CancellationToken cancel = default) =>
        RequestAsync<StopWorkersReply>(new StopWorkers(idle, ids, drain), cancel);

    public Task ShutdownServerAsync(CancellationToken cancel = default) => RequestAsync<Ack>(new ShutdownServer(), cancel);

    public Task<CancelJobsReply> CancelAsync(IReadOnlyList<long> ids, CancellationToken cancel = default) =>
        RequestAsync<CancelJobsReply>(new CancelJobs(ids), cancel);

    /// <summary>Changes the priority of jobs that have not started.</summary>
    public Task<SetJobsReply> SetPriorityAsync(IReadOnlyList<long> ids, int priority, CancellationToken cancel = default) =>
        RequestAsync<SetJobsReply>(new SetJobs(ids, priority), cancel);

    /// <summary>Holds jobs that have not started (true), or releases held ones (false).</summary>
    public Task<SetJobsReply> HoldAsync(IReadOnlyList<long> ids, bool hold, CancellationToken cancel = default) =>
        RequestAsync<SetJobsReply>(new SetJobs(ids, null, hold), cancel);

    /// <summary>Runs ended jobs again under their ids (and, with <paramref name="includeDependents"/>, what broke on them).</summary>
    public Task<SetJobsReply> RestartAsync(IReadOnlyList<long> ids, bool includeDependents, CancellationToken cancel = default) =>
        RequestAsync<SetJobsReply>(new RestartJobs(ids, includeDependents), cancel);

    public Task<RemoveJobsReply> RemoveAsync(IReadOnlyList<long>? ids, IReadOnlyList<JobState>? states, CancellationToken cancel = default) =>
        RequestAsync<RemoveJobsReply>(new RemoveJobs(ids, states), cancel);

    /// <summary>How often a wait registers itself again, so it survives a server restart (the server forgets waiters).</summary>
    public TimeSpan RewatchInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Watches jobs until they end. The server pushes each end; <paramref name="onEvent"/> is called (on the client's
    /// thread) for every job that has ended and once per unknown id. Completes when all have ended, or the first
    /// with <paramref name="any"/>; returns false when <paramref name="timeout"/> ran out first. An array job's id
    /// stands for its tasks: <paramref name="onArray"/> is told which they are before any of their events.
    /// </summary>
    public async Task<bool> WaitAsync(IReadOnlyList<long> ids, bool any, TimeSpan? timeout, Action<WaitEvent> onEvent, CancellationToken cancel = default,
        Action<ArrayTasks>? onArray = null)
    {
        var remaining = new HashSet<long>(ids);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new object();
        void Ended(JobInfo? job, long id)
        {
            lock (gate)
            {
                if (!remaining.Remove(id))
                {
                    return;
                }

                try
                {
                    onEvent(new WaitEvent(id, job));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Checkpoint: a caller's callback (one whose wait has just timed out or been cancelled, say) never
                    // throws on the client's I/O thread; the wait ends with its error instead.
                    done.TrySetException(ex);
                    return;
                }

                if (remaining.Count == 0 || (any && job is not null))
                {
                    done.TrySetResult();
                }
            }
        }

        var rid = Interlocked.Increment(ref _nextRid);
        _watches[rid] = job => Ended(job, job.Id);
        try
        {
            void Apply(WatchReply reply)
            {
                // An array job's id stands for its tasks: wait for each of them instead.
                foreach (var array in reply.Arrays ?? [])
                {
                    lock (gate)
                    {
                        if (remaining.Remove(array.ArrayJobId))
                        {
                            onArray?.Invoke(array);
                            for (var k = 0; k < array.Count; k++)
                            {
                                remaining.Add(array.FirstTaskId + k);
                            }
                        }
                    }
                }

                foreach (var job in reply.Finished)
                {
                    Ended(job, job.Id);
                }

                foreach (var id in reply.Unknown)
                {
                    Ended(null, id);
                }
            }

            Apply(await RequestAsync<WatchReply>(new WatchJobs(ids.Distinct().ToList()), cancel, rid).ConfigureAwait(false));
            var deadline = Deadline.In(timeout);
            while (!done.Task.IsCompleted)
            {
                var left = deadline.IsNever ? RewatchInterval : deadline.Remaining;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                var pause = Task.Delay(left < RewatchInterval ? left : RewatchInterval, cancel);
                if (await Task.WhenAny(done.Task, pause).ConfigureAwait(false) == done.Task)
                {
                    break;
                }

                cancel.ThrowIfCancellationRequested();
                List<long> pending;
                lock (gate)
                {
                    pending = remaining.ToList();
                }

                try
                {
                    // Registering again is harmless, and after a server restart it is the only way to be told.
                    Apply(await RequestAsync<WatchReply>(new WatchJobs(pending), cancel, rid, breakOnTimeout: false).ConfigureAwait(false));
                }
                catch (GoqException ex) when (ex.ErrorId == GoqErrorIds.ServerUnreachable)
                {
                    // The server is away (restarting?): keep waiting, and try again.
                }
            }

            await done.Task.ConfigureAwait(false); // a callback's failure ends the wait with it
            return true;
        }
        finally
        {
            _watches.TryRemove(rid, out _);
            if (Volatile.Read(ref _disposed) == 0)
            {
                Post(new UnwatchJobs(rid), 0);
            }
        }
    }

    /// <summary>Sends a request and awaits its reply; an <see cref="ErrorReply"/> becomes a <see cref="GoqException"/>.</summary>
    public async Task<T> RequestAsync<T>(GoqMessage request, CancellationToken cancel = default, long rid = 0, bool breakOnTimeout = true)
        where T : GoqMessage
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (rid == 0)
        {
            rid = Interlocked.Increment(ref _nextRid);
        }

        // Checkpoint (sizes): a request the server's socket would refuse fails here at once, not after the timeout.
        var payload = _wire.Encode(request, rid);
        if (payload.Length > FrameCodec.MaxMessageBytes)
        {
            throw new GoqException(GoqErrorIds.MessageTooLarge, GoqErrorKind.InvalidArgument,
                $"the {request.GetType().Name} request takes {payload.Length:N0} bytes; a message may take at most {FrameCodec.MaxMessageBytes:N0}")
            { Target = Endpoint };
        }

        var reply = new TaskCompletionSource<GoqMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[rid] = reply;
        if (_rejection is { } rejection)
        {
            reply.TrySetException(rejection); // known already: fail at once instead of after the timeout
        }

        try
        {
            Post(payload);
            var timeout = Task.Delay(RequestTimeout, cancel);
            if (await Task.WhenAny(reply.Task, timeout).ConfigureAwait(false) != reply.Task)
            {
                cancel.ThrowIfCancellationRequested();
                if (breakOnTimeout)
                {
                    Dispose();
                }

                throw new GoqException(GoqErrorIds.ServerUnreachable, GoqErrorKind.Connection,
                    $"the Goq server at {Endpoint} did not answer within {RequestTimeout.TotalSeconds:0.#} s (GOQ_CONNECT_TIMEOUT_SEC): it is not running (Get-GoqServer, Start-GoqServer), "
                    + "or it did not accept our credentials (this home's .goq must hold the server's public key and cluster secret)")
                { Target = Endpoint };
            }

            return await reply.Task.ConfigureAwait(false) switch
            {
                T ok => ok,
                ErrorReply error => throw new GoqException(error.ErrorId, error.Kind, error.Message) { Target = Endpoint },
                var other => throw new GoqException(GoqErrorIds.MalformedMessage, GoqErrorKind.InvalidData,
                    $"the server answered a {request.GetType().Name} with a {other.GetType().Name}"),
            };
        }
        finally
        {
            _pending.TryRemove(new KeyValuePair<long, TaskCompletionSource<GoqMessage>>(rid, reply));
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _poller.Stop();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
        }

        _poller.Dispose();
        _servers.Dispose();
        _outgoing.Dispose();
        // A request still waiting fails as unanswered, never as cancelled: the connection it was sent on is gone (another
        // request on it went unanswered, a server taking over), and whoever retries (RetryingSubmitter) sends it again.
        var closed = new GoqException(GoqErrorIds.ServerUnreachable, GoqErrorKind.Connection,
            $"the connection to the Goq server at {Endpoint} was closed before it answered (another request on it went unanswered)") { Target = Endpoint };
        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(closed);
        }
    }

    private void RejectAll(GoqException why)
    {
        _rejection = why;
        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(why);
        }
    }

    private GoqException CredentialsRejected() => new(GoqErrorIds.CredentialsRejected, GoqErrorKind.Security, _user is { } user
        ? $"the Goq server at {Endpoint} did not accept our credentials: this home's user key (.goq/{Identity.UserKey.FileName}, {user.KeyIdText} of {user.User}) is not one it gave, "
            + "or it is not a multi-user cluster; ask an Admin of the cluster for a key (Grant-GoqUser)"
        : $"the Goq server at {Endpoint} did not accept our credentials: this home's cluster secret (.goq/{Configuration.ClusterCredentials.SecretFile}) is not the server's; import the server home's archive (Export-GoqHome there, Import-GoqHome -Force here)")
    { Target = Endpoint };

    private void Post(GoqMessage message, long rid) => Post(_wire.Encode(message, rid));

    private void Post(byte[] payload)
    {
        try
        {
            _outgoing.Enqueue(_wire.ToServer(payload));
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void OnReceiveReady(NetMQSocket socket)
    {
        var message = new NetMQMessage();
        while (socket.TryReceiveMultipartMessage(ref message))
        {
            try
            {
                var envelope = _wire.Open(message, 0);
                if (envelope.Body is JobFinishedNotice notice && _watches.TryGetValue(envelope.Rid, out var watch))
                {
                    foreach (var job in notice.Jobs)
                    {
                        watch(job);
                    }
                }
                else if (envelope.More == true)
                {
                    if (!_pending.ContainsKey(envelope.Rid))
                    {
                        _partial.Remove(envelope.Rid); // nobody waits for it any more (timed out)
                        message = new NetMQMessage();
                        continue;
                    }

                    // One part of a reply too large for one message: kept until the last part comes.
                    _partial[envelope.Rid] = _partial.Remove(envelope.Rid, out var soFar) ? MessageParts.Join(soFar, envelope.Body) : envelope.Body;
                }
                else
                {
                    var body = _partial.Remove(envelope.Rid, out var parts) ? MessageParts.Join(parts, envelope.Body) : envelope.Body;
                    if (_pending.TryGetValue(envelope.Rid, out var pending))
                    {
                        pending.TrySetResult(body);
                    }
                }
            }
            catch (GoqException ex) when (ex.ErrorId == GoqErrorIds.BadSignature)
            {
                // Only the server can reach us over CURVE, so a message we cannot verify means our secrets differ.
                RejectAll(CredentialsRejected());
            }
            catch (GoqException ex) when (ex.ErrorId == GoqErrorIds.ClockSkew)
            {
                // Signed by the server, but stamped outside the window: our clocks differ; nothing we send is taken.
                RejectAll(new GoqException(GoqErrorIds.ClockSkew, GoqErrorKind.Security,
                    $"the Goq server at {Endpoint} refuses our messages and we refuse its: {ex.Message}") { Target = Endpoint });
            }
            catch (GoqException)
            {
                // A reply we cannot read is dropped; its request times out with a clear error.
            }

            message = new NetMQMessage();
        }
    }
}
