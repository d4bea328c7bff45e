using Goq.Protocol;
using Goq.Transport;
using Goq.Worker;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.SimWorkers;

/// <summary>
/// One simulated worker: its own DEALER and CURVE handshake, its own id, the worker protocol as a real worker speaks it
/// (announce, heartbeat with the jobs it holds and the last dispatch it got, report ends until acknowledged: the real
/// worker's <see cref="WorkerSession"/>), but a job it is handed "runs" in no time: it is reported Completed, exit code
/// 0, at once. Lives on its fleet's poller thread.
/// </summary>
public sealed class SimulatedWorker
{
    private readonly DealerSocket _socket;
    private readonly WireCodec _wire;
    private readonly SimulatedFleet _fleet;
    private readonly WorkerSession _session;

    internal SimulatedWorker(string id, IReadOnlyList<string>? queues, bool diesWithFirstJob, DealerSocket socket, WireCodec wire, SimulatedFleet fleet, long firstBeatAt)
    {
        _session = new WorkerSession(id, fleet.Host, fleet.Slots, queues: queues);
        Queues = queues;
        DiesWithFirstJob = diesWithFirstJob;
        _socket = socket;
        _wire = wire;
        _fleet = fleet;
        NextBeatAt = firstBeatAt;
    }

    public string Id => _session.WorkerId;

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
        Send(_session.Bye());
        _socket.Options.Linger = TimeSpan.FromSeconds(1); // the goodbye leaves before the socket closes
        Silent = true;
    }

    internal void Heartbeat()
    {
        // As the worker's heartbeat, less what a simulated worker never has (ends adopted from dead workers, output).
        Send(Hello());
        foreach (var report in _session.UnacknowledgedEnds)
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
                foreach (var ack in _session.Dispatched(dispatch))
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
                Send(_session.Bye());
                break;
        }
    }

    private void Run(DispatchJob dispatch)
    {
        if (_session.AwaitsAck(dispatch.JobId, dispatch.Attempt))
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
        Send(_session.Ended(report));
    }

    private void Acknowledged(long jobId, int attempt)
    {
        if (_session.Acknowledged(jobId, attempt))
        {
            _fleet.CountAck();
        }
    }

    // Its jobs end as they come: it holds none but those whose end the server has not acknowledged (the session's).
    private WorkerHello Hello() => _session.Hello(Environment.ProcessId, []);

    private void Send(GoqMessage message)
    {
        if (!Silent)
        {
            _socket.TrySendMultipartMessage(_wire.ToServer(message));
            _fleet.CountSent();
        }
    }
}
