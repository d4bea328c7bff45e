using Goq.Timing;
using System.Text.Json;
using Goq.Protocol;
using Goq.Platform;
using Goq.Diagnostics;

namespace Goq.Worker;

/// <summary>
/// The worker as a job keeper: it binds a local endpoint instead of connecting to the server, and a relay carries its
/// messages both ways. When the relay dies (kill -9) the jobs go on; the next relay on the host finds this keeper and
/// the server sees the same worker come back, with every job it had, and every result it missed. Without a relay for
/// longer than the server waits for a silent worker, the keeper ends its jobs and exits, as a lost worker's would.
/// </summary>
public sealed partial class GoqWorker
{
    private readonly Configuration.ClusterCredentials? _keeperKeys;
    private (int Pid, long Start)? _relay;
    private TimeSpan _relayLostAt = Instant.SteadyNow; // on the steady clock: a wall step does not end the jobs

    private void PublishKeeper(KeeperOptions keeper)
    {
        var port = _dealer.BindRandomPort(keeper.BindAddress);
        var info = new KeeperInfo(Id, Environment.ProcessId, LiveProcess.StartTicks(Environment.ProcessId), $"{keeper.BindAddress}:{port}",
            Convert.ToHexString(_keeperKeys!.ServerPublicKey), _options.Slots);
        Directory.CreateDirectory(Path.GetDirectoryName(keeper.InfoPath)!);
        var temp = keeper.InfoPath + ".tmp";
        Configuration.GoqHomeInitializer.WritePrivateFile(temp, JsonSerializer.SerializeToUtf8Bytes(info, WorkerJsonContext.Default.KeeperInfo));
        File.Move(temp, keeper.InfoPath, overwrite: true);
        _options.Log(LogEntry.Info("keeper.started", $"keeping jobs for relays at {info.Endpoint}"));
    }

    private void RelayAttached(RelayHello relay)
    {
        _relay = (relay.Pid, relay.Start);
        _options.Log(LogEntry.Info("keeper.relay_attached", $"relay pid {relay.Pid} carries this worker's messages"));
        Heartbeat(); // the server learns at once that the worker is back, with its jobs and missed results
    }

    /// <summary>True (and the jobs are being ended) once no relay has carried our messages for too long.</summary>
    private bool KeeperShouldGiveUp()
    {
        var keeper = _options.Keeper!;
        if (_relay is { } relay && !LiveProcess.Is(relay.Pid, relay.Start))
        {
            _relay = null;
            _relayLostAt = Instant.SteadyNow;
            _options.Log(LogEntry.Warning("keeper.relay_lost", $"relay pid {relay.Pid} is gone; keeping the jobs for {keeper.GiveUpAfter.TotalSeconds:0} s"));
        }

        var waited = Instant.SteadyNow - _relayLostAt;
        if (_relay is not null || _exiting || waited < (_jobsDone == 0 && _running.Count == 0 && !_session.HasUnacknowledgedEnds ? keeper.FirstRelayWithin : keeper.GiveUpAfter))
        {
            return false;
        }

        // Guarantee point: the server has (or is about to have) queued these jobs again; their copies here end now.
        _options.Log(LogEntry.Warning("keeper.gave_up", "no relay came back in time: ending the jobs, as a lost worker's"));
        BeginExit(drain: false, $"its worker lost the server for {keeper.GiveUpAfter.TotalSeconds:0} s, and the server queued the job again");
        return true;
    }

    private void RemoveKeeperInfo()
    {
        if (_options.Keeper is { } keeper)
        {
            try
            {
                File.Delete(keeper.InfoPath);
                File.Delete(keeper.InfoPath + ".lock");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
