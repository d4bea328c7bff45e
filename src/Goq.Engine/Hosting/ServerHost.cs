using Goq.Configuration;
using Goq.Errors;
using Goq.Server;
using Goq.Storage;

namespace Goq.Hosting;

/// <summary>
/// Runs a home's server in this process: one server per home (an exclusive lock on <c>.goq/server.lock</c>, with
/// the pid in <c>.goq/server.pid</c>), logging to <c>.goq/server.log</c>, until cancelled or asked to stop.
/// </summary>
public static class ServerHost
{
    public static async Task RunAsync(GoqSettings settings, Action<ServerInfo> onStarted, CancellationToken cancel)
    {
        using var serverLock = AcquireLock(settings);
        using var log = new FileLog(settings.ServerLogPath);
        using var store = new SqliteJobStore(settings.DatabasePath);
        using var server = new GoqServer(new GoqServerOptions
        {
            BindEndpoint = settings.BindEndpoint,
            Home = settings.Home,
            OutputDir = settings.OutputDir,
            HeartbeatMs = settings.HeartbeatSec * 1000,
            Credentials = settings.LoadCredentials(forServer: true),
            ReplayWindow = settings.ReplayWindow,
            Scheduler = new SchedulerOptions
            {
                DeadAfter = TimeSpan.FromSeconds(settings.DeadWorkerSec),
                RestartGrace = TimeSpan.FromSeconds(settings.DeadWorkerSec),
            },
            Log = log.Write,
        }, store);
        server.Start();
        try
        {
            File.WriteAllText(settings.PidPath, $"{Environment.ProcessId}\n{settings.Endpoint}\n");
            GoqHomeInitializer.RestrictFile(settings.PidPath);
            onStarted(new ServerInfo { Endpoint = settings.Endpoint, Pid = Environment.ProcessId, Home = settings.Home, Version = GoqVersion.Current });
            await server.Completion.WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            log.Write("interrupted; stopping");
        }
        finally
        {
            server.Stop();
            TryDelete(settings.PidPath);
        }
    }

    /// <summary>The pid of the server running on this home, or null when none runs.</summary>
    public static int? RunningPid(GoqSettings settings)
    {
        try
        {
            using var probe = new FileStream(settings.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return null;
        }
        catch (IOException)
        {
            return ReadPid(settings) ?? 0;
        }
        catch (UnauthorizedAccessException)
        {
            return ReadPid(settings) ?? 0;
        }
    }

    private static FileStream AcquireLock(GoqSettings settings)
    {
        try
        {
            // Held open for the server's life: a second server on the same home cannot take it.
            return new FileStream(settings.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            var pid = ReadPid(settings);
            throw new GoqException(GoqErrorIds.ServerAlreadyRunning, GoqErrorKind.ResourceUnavailable,
                $"a Goq server already runs on home '{settings.Home}'{(pid is { } p ? $" (pid {p})" : "")}; stop it with Stop-GoqServer first", ex)
            { Target = settings.Home };
        }
    }

    private static int? ReadPid(GoqSettings settings)
    {
        try
        {
            return int.TryParse(File.ReadLines(settings.PidPath).FirstOrDefault(), out var pid) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
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
}
