using Goq.Protocol;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.SimWorkers;

/// <summary>
/// One simulated worker: its own DEALER and CURVE handshake, its own id, the worker protocol as a real worker speaks it
/// (announce, heartbeat with the jobs it holds and the last dispatch it got, report ends until acknowledged), but a job
/// it is handed "runs" in no time: it is reported Completed, exit code 0, at once. Lives on its fleet's poller thread.
/// </summary>
public sealed class SimulatedWorker
{
    private readonly DealerSocket _socket;
    private readonly WireCodec _wire;
    private readonly SimulatedFleet _fleet;
    private readonly Dictionary<(long JobId, int Attempt), JobFinished> _unacked = new();
    private string? _epoch;
    private long _lastDispatch;

    internal SimulatedWorker(string id, IReadOnlyList<string>? queues, bool diesWithFirstJob, DealerSocket socket, WireCodec wire, SimulatedFleet fleet, long firstBeatAt)
    {
        Id = id;
        Queues = queues;
        DiesWithFirstJob = diesWithFirstJob;
        _socket = socket;
        _wire = wire;
        _fleet = fleet;
        NextBeatAt = firstBeatAt;
    }

    public string Id { get; }

    public IReadOnlyList<string>? Queues { get; }

    /// <summary>Jobs handed to this worker (each attempt once).</summary>
    public int JobsRun => Ran.Count;

    /// <summary>The ids of the jobs handed to this worker, in the order they came.</summary>
    public List<long> Ran { get; } = [];

    /// <summary>The server answered our announcement: it counts us.</summary>
    public bool Registered { get; private set; }

    /// <summary>Hangs the moment it is handed a job: takes it, never reports it, and goes <see cref="Silent"/>.</summary>
    public bool DiesWithFirstJob { get; }

    /// <summary>Gone silent: no heartbeats, no reports, nothing read (a hung host, goq's deaf worker).</summary>
    public bool Silent { get; internal set; }

    internal DealerSocket Socket => _socket;

    internal long NextBeatAt { get; set; }

    internal void Announce() => Send(Hello());

    internal void Leave()
    {
        Send(new WorkerBye(Id));
        _socket.Options.Linger = TimeSpan.FromSeconds(1); // the goodbye leaves before the socket closes
        Silent = true;
    }

    internal void Heartbeat()
    {
        Send(Hello());
        foreach (var report in _unacked.Values)
        {
            Send(report); // not yet acknowledged: perhaps lost with a server that went down
        }
    }

    internal void OnReceiveReady()
    {
        var message = new NetMQMessage();
        while (_socket.TryReceiveMultipartMessage(ref message))
        {
            if (!Silent)
            {
                try
                {
                    Handle(_wire.Open(message, 0).Body);
                }
                catch (Errors.GoqException)
                {
                    _fleet.CountRefused(); // a message we could not verify: a real worker logs it and carries on
                }
            }

            message = new NetMQMessage();
        }
    }

    private void Handle(GoqMessage body)
    {
        switch (body)
        {
            case DispatchJob dispatch:
                if (dispatch.Epoch != _epoch)
                {
                    _epoch = dispatch.Epoch;
                    _lastDispatch = 0;
                }

                _lastDispatch = Math.Max(_lastDispatch, dispatch.Seq);
                foreach (var ack in dispatch.Acks ?? [])
                {
                    Acknowledged(ack.JobId, ack.Attempt);
                }

                Run(dispatch);
                break;
            case JobFinishedAck ack:
                Acknowledged(ack.JobId, ack.Attempt);
                break;
            case WorkerHelloReply reply:
                Registered = true;
                _fleet.HeartbeatMs = Math.Max(100, reply.HeartbeatMs); // the server decides when we count as dead
                break;
            case ShutdownWorker:
                Silent = true;
                Send(new WorkerBye(Id));
                break;
        }
    }

    private void Run(DispatchJob dispatch)
    {
        if (_unacked.ContainsKey((dispatch.JobId, dispatch.Attempt)))
        {
            return; // a dispatch sent again: ours already, its report is on its way
        }

        Ran.Add(dispatch.JobId);
        _fleet.CountJob();
        if (DiesWithFirstJob)
        {
            Silent = true; // the job is ours on the server's books until it notices we are gone
            return;
        }

        var now = DateTimeOffset.UtcNow;
        var report = new JobFinished(Id, dispatch.JobId, dispatch.Attempt, JobState.Completed, 0, null, now, now, Environment.ProcessId, 0);
        _unacked[(dispatch.JobId, dispatch.Attempt)] = report;
        Send(report);
    }

    private void Acknowledged(long jobId, int attempt)
    {
        if (_unacked.Remove((jobId, attempt)))
        {
            _fleet.CountAck();
        }
    }

    private WorkerHello Hello() => new(Id, _fleet.Host, Environment.ProcessId, _fleet.Slots,
        _unacked.Keys.Select(k => new RunningJobRef(k.JobId, k.Attempt)).ToList(), GoqVersion.Current, false, _epoch, _lastDispatch, 0, Queues);

    private void Send(GoqMessage message)
    {
        if (!Silent)
        {
            _socket.TrySendMultipartMessage(_wire.ToServer(message));
            _fleet.CountSent();
        }
    }
}
