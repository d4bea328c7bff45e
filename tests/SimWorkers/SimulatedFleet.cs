using System.Diagnostics;
using Goq.Configuration;
using Goq.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace Goq.SimWorkers;

/// <summary>
/// Many <see cref="SimulatedWorker"/>s on one poller thread of this process, each with its own connection to the
/// server. Heartbeats are spread: each worker beats on its own schedule, as workers started at different times do.
/// Safe to call from any thread; the workers themselves are touched only on the poller thread.
/// </summary>
public sealed class SimulatedFleet : IDisposable
{
    private readonly string _endpoint;
    private readonly ClusterCredentials _credentials;
    private readonly TimeSpan _replayWindow;
    private readonly NetMQQueue<Action> _inbox = new();
    private readonly NetMQTimer _beat = new(50);
    private readonly NetMQPoller _poller;
    private readonly Dictionary<string, SimulatedWorker> _workers = new();
    private readonly Thread _thread;
    private long _jobs;
    private long _acks;
    private long _sent;
    private long _refused;
    private long _beats;

    public SimulatedFleet(string endpoint, ClusterCredentials credentials, int slots = 1, int heartbeatMs = GoqDefaults.HeartbeatSec * 1000,
        string host = "simhost", TimeSpan? replayWindow = null)
    {
        _endpoint = endpoint;
        _credentials = credentials;
        _replayWindow = replayWindow ?? TimeSpan.FromSeconds(GoqDefaults.ReplayWindowSec);
        Slots = slots;
        HeartbeatMs = heartbeatMs;
        Host = host;
        _inbox.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var action, TimeSpan.Zero))
            {
                action();
            }
        };
        _beat.Elapsed += (_, _) => Beat();
        _poller = new NetMQPoller { _inbox, _beat };
        _thread = new Thread(_poller.Run) { IsBackground = true, Name = "goq-sim-workers" };
        _thread.Start();
    }

    public int Slots { get; }

    public string Host { get; }

    /// <summary>How often each worker announces itself; the server's reply to an announcement sets it.</summary>
    public int HeartbeatMs { get; internal set; }

    /// <summary>Jobs handed to the fleet's workers, all told.</summary>
    public long Jobs => Interlocked.Read(ref _jobs);

    /// <summary>Job ends the server acknowledged (the checkpoint after its commit).</summary>
    public long Acks => Interlocked.Read(ref _acks);

    /// <summary>Messages the workers sent.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Heartbeats the workers sent.</summary>
    public long Heartbeats => Interlocked.Read(ref _beats);

    /// <summary>Messages from the server the workers could not verify (never expected).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Connects and announces workers <paramref name="prefix"/>-0 .. -(count-1), serving <paramref name="queues"/> (null:
    /// the default queue); with <paramref name="diesWithFirstJob"/>, each hangs holding the first job it is handed.
    /// </summary>
    public void Add(string prefix, int count, IReadOnlyList<string>? queues = null, bool diesWithFirstJob = false) =>
        Run(() =>
        {
            for (var i = 0; i < count; i++)
            {
                Connect($"{prefix}-{i}", queues, diesWithFirstJob);
            }
        });

    /// <summary>The worker goes silent: it never sends or reads again, as a hung host would.</summary>
    public void Silence(string id) => Run(() => _workers[id].Silent = true);

    /// <summary>A snapshot of the workers' ids, how many jobs each ran and whether the server answered their announcement.</summary>
    public IReadOnlyList<(string Id, int JobsRun, bool Registered)> Snapshot() =>
        Call(() => _workers.Values.Select(w => (w.Id, w.JobsRun, w.Registered)).ToList());

    /// <summary>The ids of the jobs worker <paramref name="id"/> was handed, in order.</summary>
    public IReadOnlyList<long> RanBy(string id) => Call(() => _workers[id].Ran.ToList());

    /// <summary>Every worker still speaking says goodbye (as a worker that exits does), then all disconnect.</summary>

    public void Dispose()
    {
        Call(() =>
        {
            foreach (var worker in _workers.Values.Where(w => !w.Silent))
            {
                worker.Leave();
            }

            return 0;
        });
        _poller.StopAsync();
        _thread.Join();
        foreach (var worker in _workers.Values)
        {
            worker.Socket.Dispose();
        }

        _poller.Dispose();
        _inbox.Dispose();
    }

    internal void CountJob() => Interlocked.Increment(ref _jobs);

    internal void CountAck() => Interlocked.Increment(ref _acks);

    internal void CountSent() => Interlocked.Increment(ref _sent);

    internal void CountRefused() => Interlocked.Increment(ref _refused);

    private void Connect(string id, IReadOnlyList<string>? queues, bool diesWithFirstJob)
    {
        var socket = new DealerSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.SendHighWatermark = 100_000;
        CurveSetup.AsClient(socket, _credentials);
        // The first heartbeat somewhere within one period: workers of a real cluster never beat in step.
        var worker = new SimulatedWorker(id, queues, diesWithFirstJob, socket, new WireCodec(_credentials.Secret, _replayWindow), this,
            Stopwatch.GetTimestamp() + Random.Shared.NextInt64(Stopwatch.Frequency * HeartbeatMs / 1000));
        _workers.Add(id, worker);
        socket.ReceiveReady += (_, _) => worker.OnReceiveReady();
        _poller.Add(socket);
        socket.Connect(_endpoint);
        worker.Announce();
    }

    private void Beat()
    {
        var now = Stopwatch.GetTimestamp();
        var period = Stopwatch.Frequency * HeartbeatMs / 1000;
        foreach (var worker in _workers.Values)
        {
            if (!worker.Silent && now >= worker.NextBeatAt)
            {
                worker.NextBeatAt = now + period;
                worker.Heartbeat();
                Interlocked.Increment(ref _beats);
            }
        }
    }

    private void Run(Action action) => _inbox.Enqueue(action);

    private T Call<T>(Func<T> function)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Run(() => done.SetResult(function()));
        return done.Task.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
    }
}
