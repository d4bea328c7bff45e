using Goq.Timing;
using System.Text.Json;
using Goq.Configuration;
using Goq.Protocol;
using Goq.Transport;
using Goq.Worker;
using NetMQ;
using NetMQ.Sockets;
using Goq.Platform;
using Goq.Diagnostics;

namespace Goq.Hosting;

/// <summary>
/// The worker process users and supervisors see, when its jobs are held by a job keeper (see
/// <see cref="KeeperOptions"/>): it connects to the server (CURVE) and to its keeper (CURVE, the keeper's key), and
/// passes every message between them as it is; the messages are signed end to end with the cluster secret, so the
/// relay reads none of them. Killing it (kill -9) costs the jobs nothing: the next relay started on the host finds the
/// keeper, whose lock no live relay holds, and carries on.
/// </summary>
public sealed class WorkerRelay : IDisposable
{
    private readonly ServerLink _upstream;
    private readonly DealerSocket _keeper = new();
    private readonly NetMQPoller _poller;
    private readonly NetMQTimer _watch = new(500);
    private readonly KeeperInfo _info;
    private readonly FileStream _lock;
    private readonly Action<LogEntry> _log;

    private WorkerRelay(GoqSettings settings, ClusterCredentials credentials, KeeperInfo info, FileStream keeperLock, Action<LogEntry> log)
    {
        _info = info;
        _lock = keeperLock;
        _log = log;
        static void Sized(NetMQSocket socket)
        {
            socket.Options.Linger = TimeSpan.FromSeconds(1);
            socket.Options.MaxMsgSize = FrameCodec.MaxMessageBytes + 1024;
            socket.Options.SendHighWatermark = 100_000;
            socket.Options.ReceiveHighWatermark = 100_000;
        }

        _upstream = new ServerLink(settings.Endpoint, socket =>
        {
            Sized(socket);
            CurveSetup.AsClient(socket, credentials);
            socket.ReceiveReady += (_, e) => Forward(e.Socket, _keeper);
        });
        Sized(_keeper);
        CurveSetup.AsClient(_keeper, credentials.ForServerKey(Convert.FromHexString(info.PublicKey)));
        _keeper.ReceiveReady += (_, _) => ForwardUp();
        _watch.Elapsed += (_, _) =>
        {
            if (!KeeperAlive(info))
            {
                _log(LogEntry.Info("relay.keeper_exited", $"the job keeper (pid {info.Pid}) has exited; so does this relay"));
                _poller!.StopAsync();
            }
        };
        _poller = new NetMQPoller { _keeper, _watch };
        foreach (var socket in _upstream.Sockets)
        {
            _poller.Add(socket);
        }

        _upstream.Connect();
        _keeper.Connect(info.Endpoint);
        var wire = new WireCodec(credentials.Secret, settings.ReplayWindow, keyId: credentials.KeyId);
        _keeper.SendMultipartMessage(wire.ToServer(new RelayHello(Environment.ProcessId, LiveProcess.StartTicks(Environment.ProcessId))));
        Wire = wire;
    }

    public KeeperInfo Keeper => _info;

    private WireCodec Wire { get; }

    /// <summary>
    /// A relay for a keeper on this host that no live relay holds (a worker killed and started again takes its jobs
    /// back), or null when there is none.
    /// </summary>
    public static WorkerRelay? Adopt(GoqSettings settings, ClusterCredentials credentials, Action<LogEntry> log)
    {
        foreach (var path in KeeperFiles(settings))
        {
            if (TryLock(path) is not { } held)
            {
                continue; // a live relay holds it
            }

            if (Read(path) is { } info && KeeperAlive(info))
            {
                log(LogEntry.Info("relay.adopted", $"taking over the jobs of worker {info.WorkerId} from its keeper (pid {info.Pid})", worker: info.WorkerId));
                return new WorkerRelay(settings, credentials, info, held, log);
            }

            // A keeper killed with -9 leaves its file behind; with its lock held, nobody else is looking at it.
            TryDelete(path);
            TryDelete(path + ".lock");
            held.Dispose();
        }

        return null;
    }

    /// <summary>A relay for the keeper that publishes <paramref name="infoPath"/>, once it has (a keeper just started).</summary>
    public static async Task<WorkerRelay> AttachAsync(GoqSettings settings, ClusterCredentials credentials, string infoPath, Func<bool> keeperExited,
        Action<LogEntry> log, CancellationToken cancel)
    {
        var deadline = Deadline.In(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (File.Exists(infoPath) && Read(infoPath) is { } info && TryLock(infoPath) is { } held)
            {
                return new WorkerRelay(settings, credentials, info, held, log);
            }

            if (keeperExited() || deadline.Passed)
            {
                throw new Errors.GoqException(Errors.GoqErrorIds.WorkerStartFailed, Errors.GoqErrorKind.ResourceUnavailable,
                    $"the job keeper did not start (see its log in {settings.DotDir})");
            }

            await Task.Delay(50, cancel).ConfigureAwait(false);
        }
    }

    public static string InfoPath(GoqSettings settings, string workerId) => Path.Combine(settings.DotDir, "run", $"{Environment.MachineName}.{workerId}.keeper");

    /// <summary>Carries messages until the keeper exits, or <paramref name="cancel"/> asks the worker to stop (then its jobs end).</summary>
    public async Task RunAsync(CancellationToken cancel)
    {
        using var stop = cancel.Register(() =>
        {
            // Stopping the worker (Ctrl+C, a service stop) ends its jobs, as for a worker without a keeper: the relay
            // signs the request like the server would, and waits for the keeper to go.
            _poller.Run(() => _keeper.TrySendMultipartMessage(Wire.ToServer(new ShutdownWorker(Drain: false))));
        });
        await Task.Run(_poller.Run, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Tells the keeper to finish its running jobs, take no more and exit; the relay stops when it has.</summary>
    public void Drain()
    {
        try
        {
            _poller.Run(() => _keeper.TrySendMultipartMessage(Wire.ToServer(new ShutdownWorker(Drain: true))));
        }
        catch (ObjectDisposedException)
        {
            // Already stopped.
        }
    }

    public void Dispose()
    {
        _poller.Dispose();
        _upstream.Dispose();
        _keeper.Dispose();
        _lock.Dispose();
    }

    private static IEnumerable<string> KeeperFiles(GoqSettings settings)
    {
        var dir = Path.Combine(settings.DotDir, "run");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, $"{Environment.MachineName}.*.keeper") : [];
    }

    private static bool KeeperAlive(KeeperInfo info) => LiveProcess.Is(info.Pid, info.Start);

    // The lock is an flock the kernel drops with its holder, so a relay killed -9 never leaves its keeper locked.
    private static FileStream? TryLock(string infoPath)
    {
        try
        {
            return new FileStream(infoPath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static KeeperInfo? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), WorkerJsonContext.Default.KeeperInfo);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    // The keeper's messages go to the server, or to every server of several (only the serving one reads them).
    private void ForwardUp()
    {
        var message = new NetMQMessage();
        while (_keeper.TryReceiveMultipartMessage(ref message))
        {
            _upstream.TrySend(message); // full queues: dropped, as on a network; the sides send again what matters
            message = new NetMQMessage();
        }
    }

    private static void Forward(NetMQSocket from, NetMQSocket to)
    {
        var message = new NetMQMessage();
        while (from.TryReceiveMultipartMessage(ref message))
        {
            to.TrySendMultipartMessage(message); // full queue: dropped, as on a network; the sides send again what matters
            message = new NetMQMessage();
        }
    }
}
