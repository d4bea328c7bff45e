using Goq.Timing;
using Goq.Client;
using Goq.Configuration;
using Goq.Errors;

namespace Goq.Hosting;

/// <summary>Starts detached servers and workers and returns once they answer (never just "started, maybe").</summary>
public static class Launcher
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RefusedExitGrace = TimeSpan.FromSeconds(20);

    public static async Task<ServerInfo> StartServerAsync(GoqSettings settings, IRoleCommands roles, CancellationToken cancel)
    {
        if (ServerHost.RunningPid(settings) is { } running)
        {
            throw new GoqException(GoqErrorIds.ServerAlreadyRunning, GoqErrorKind.ResourceUnavailable,
                $"a Goq server already runs on home '{settings.Home}'{(running > 0 ? $" (pid {running})" : "")}; stop it with Stop-GoqServer first")
            { Target = settings.Home };
        }

        Server.StoreOutage.EnsureRoomToOpen(settings.DotDir, settings.Home); // said here: a full disk keeps the server's own words
        var process = DetachedProcess.Start(roles.Server(settings), settings.StderrPath("server"));
        var deadline = Deadline.In(StartTimeout);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw process.FatalError(GoqErrorIds.ServerStartFailed, "server process");
            }

            if (deadline.Passed)
            {
                process.Kill();
                throw process.FatalError(GoqErrorIds.ServerStartFailed, "server process");
            }

            // One of several servers on a shared store: up once its pid file gives its role; a standby answers no one.
            if (settings.StoreConnectionString is not null && RecordedRole(settings, process.Pid) is { } role)
            {
                if (role == "Standby")
                {
                    return new ServerInfo { Endpoint = settings.OwnEndpoint, Pid = process.Pid, Home = settings.Home, Version = GoqVersion.Current, Role = role };
                }
            }
            else if (settings.StoreConnectionString is not null)
            {
                await Task.Delay(50, cancel).ConfigureAwait(false);
                continue;
            }

            // Detailed when it serves metrics: the answer then carries their address, and the client adds the dashboard's.
            var status = await TryStatusAsync(settings, cancel, detailed: settings.MetricsPort is not null).ConfigureAwait(false);
            if (status is not null && status.ServerPid == process.Pid)
            {
                return new ServerInfo
                {
                    Endpoint = settings.OwnEndpoint, Pid = process.Pid, Home = settings.Home, Version = status.Version, Role = status.Role,
                    MetricsUrl = status.MetricsUrl, DashboardUrl = status.DashboardUrl, StoreUnavailable = status.StoreUnavailable,
                };
            }

            await Task.Delay(50, cancel).ConfigureAwait(false);
        }
    }

    /// <param name="force">Start it even when a worker with the same queues and labels runs on this host for this home.</param>
    public static async Task<WorkerInfo> StartWorkerAsync(GoqSettings settings, WorkerCapacity capacity, bool oneShot, IRoleCommands roles, CancellationToken cancel,
        bool jobKeeper = true, bool force = true)
    {
        if (!force && !oneShot)
        {
            LocalWorkers.EnsureNoTwin(settings, capacity);
        }

        var workerId = Guid.NewGuid().ToString("N");
        var logPath = settings.StderrPath($"worker.{workerId[..8]}");
        var process = DetachedProcess.Start(roles.Worker(settings, workerId, capacity, oneShot, jobKeeper), logPath);
        var deadline = Deadline.In(StartTimeout);
        using var client = GoqClient.ForHome(settings);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            IReadOnlyList<WorkerInfo> workers;
            try
            {
                workers = await client.GetWorkersAsync(cancel).ConfigureAwait(false);
            }
            catch (GoqException ex) when (GoqErrorIds.IsJoinRefusal(ex.ErrorId))
            {
                // This host cannot talk to the server (a clock off, refused credentials): the worker we started cannot
                // either. Only a refusal: a slow answer (ServerUnreachable on a loaded host) is rethrown below and the
                // worker, which may be joining fine, is left alone. It exits by itself, with the reason in its log; one that has not within the grace is killed,
                // its job keeper (its child) with it: nothing stays behind us.
                var grace = Deadline.In(RefusedExitGrace);
                while (!process.HasExited && !grace.Passed && !cancel.IsCancellationRequested)
                {
                    await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                }

                process.Kill();
                throw;
            }

            // By id, or by pid: a worker that took over a keeper's jobs goes on under that keeper's id.
            if (workers.FirstOrDefault(w => w.Id == workerId || (w.Pid == process.Pid && w.Host == Environment.MachineName)) is { } worker)
            {
                return worker;
            }

            if (process.HasExited)
            {
                // A one-shot worker may have done its job and gone before we looked.
                if (oneShot && process.ExitCode == 0)
                {
                    return new WorkerInfo { Id = workerId, Host = Environment.MachineName, Pid = process.Pid, Slots = 1 };
                }

                throw process.FatalError(GoqErrorIds.WorkerStartFailed, "worker process");
            }

            if (deadline.Passed)
            {
                process.Kill();
                throw process.FatalError(GoqErrorIds.WorkerStartFailed, "worker process");
            }

            await Task.Delay(50, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Restarts a worker in place (an upgrade, a new configuration): its process is killed and a new one takes its jobs
    /// back from its job keeper, the very path a worker killed -9 and started again takes. Only for a worker on this
    /// host started with -JobKeeper: any other would lose its running jobs.
    /// </summary>
    public static async Task<WorkerInfo> RestartWorkerAsync(GoqSettings settings, string workerId, IRoleCommands roles, CancellationToken cancel)
    {
        using var client = GoqClient.ForHome(settings);
        var worker = (await client.GetWorkersAsync(cancel).ConfigureAwait(false)).FirstOrDefault(w => w.Id == workerId)
            ?? throw new GoqException(GoqErrorIds.WorkerNotFound, GoqErrorKind.NotFound, $"no connected worker with id '{workerId}'") { Target = workerId };
        if (worker.Host != Environment.MachineName)
        {
            throw new GoqException(GoqErrorIds.WorkerRestartUnsupported, GoqErrorKind.InvalidOperation,
                $"worker {workerId} runs on {worker.Host}, not here: restart it there") { Target = workerId };
        }

        if (!File.Exists(WorkerRelay.InfoPath(settings, workerId)))
        {
            throw new GoqException(GoqErrorIds.WorkerRestartUnsupported, GoqErrorKind.InvalidOperation,
                $"worker {workerId} runs without a job keeper (-NoJobKeeper), so a restart would lose its running jobs; stop it (-Drain) and start a new one") { Target = workerId };
        }

        using (var process = System.Diagnostics.Process.GetProcessById(worker.Pid))
        {
            process.Kill(); // Guarantee point: only the relay; the keeper and the jobs go on
        }

        await WaitForExitAsync(worker.Pid, TimeSpan.FromSeconds(30), cancel).ConfigureAwait(false);
        return await StartWorkerAsync(settings, new WorkerCapacity(worker.Slots, worker.Prefetch, worker.Queues, worker.Labels), oneShot: false, roles, cancel, jobKeeper: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops a server that does not answer by killing its recorded process (this host only, checked by its start time),
    /// and waits until it has exited. Returns the pid killed, or null when this home has no live server here.
    /// </summary>
    public static async Task<int?> KillServerAsync(GoqSettings settings, CancellationToken cancel)
    {
        if (ServerHost.RecordedLiveServer(settings) is not { } pid)
        {
            return null;
        }

        using (var process = System.Diagnostics.Process.GetProcessById(pid))
        {
            process.Kill(entireProcessTree: false);
        }

        await WaitForExitAsync(pid, TimeSpan.FromSeconds(30), cancel).ConfigureAwait(false);
        return pid;
    }

    /// <summary>
    /// Asks the home's server to stop and waits until its process has exited (when it runs on this host). With
    /// <paramref name="includeWorkers"/>, first the workers it knows of, as Stop-GoqWorker does (running jobs are killed
    /// and stay queued), waiting until each has left (its process exited, on this host), so none is stranded.
    /// </summary>
    public static async Task<ServerStatus> StopServerAsync(GoqClient client, CancellationToken cancel, bool includeWorkers = false)
    {
        if (includeWorkers)
        {
            await StopAllWorkersAsync(client, WorkersExitWithin, cancel).ConfigureAwait(false);
        }

        var status = await client.GetStatusAsync(cancel).ConfigureAwait(false);
        await client.ShutdownServerAsync(cancel).ConfigureAwait(false);
        if (status.ServerHost == Environment.MachineName)
        {
            await WaitForExitAsync(status.ServerPid, TimeSpan.FromSeconds(30), cancel).ConfigureAwait(false);
        }

        return status;
    }

    private static readonly TimeSpan WorkersExitWithin = TimeSpan.FromSeconds(60);

    /// <summary>Stops every worker the server knows of and waits (bounded) until they have left it and, here, exited.</summary>
    private static async Task StopAllWorkersAsync(GoqClient client, TimeSpan within, CancellationToken cancel)
    {
        var workers = await client.GetWorkersAsync(cancel).ConfigureAwait(false);
        if (workers.Count == 0)
        {
            return;
        }

        var reply = await client.StopWorkersAsync(idle: false, [.. workers.Select(w => w.Id)], drain: false, cancel).ConfigureAwait(false);
        var deadline = Deadline.In(within);
        var ids = reply.Stopped.Select(w => w.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var worker in reply.Stopped.Where(w => w.Host == Environment.MachineName && w.Pid > 0))
        {
            try
            {
                await WaitForExitAsync(worker.Pid, deadline.Remaining, cancel).ConfigureAwait(false);
            }
            catch (GoqException ex) when (ex.Kind == GoqErrorKind.Timeout)
            {
                throw WorkersNotStopped($"worker {worker.Host}/{worker.Id} (process {worker.Pid}) did not exit", within);
            }
        }

        // Workers on other hosts: until the server no longer lists them (each says goodbye as it exits).
        while ((await client.GetWorkersAsync(cancel).ConfigureAwait(false)).Where(w => ids.Contains(w.Id)).ToList() is { Count: > 0 } left)
        {
            if (deadline.Passed)
            {
                throw WorkersNotStopped($"worker{(left.Count > 1 ? "s" : "")} {string.Join(", ", left.Select(w => $"{w.Host}/{w.Id}"))} did not leave", within);
            }

            await Task.Delay(100, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>Workers that did not leave in time: the server is left running, and -Force does not kill it (its own id).</summary>
    internal static GoqException WorkersNotStopped(string what, TimeSpan within) => new(GoqErrorIds.WorkersNotStopped, GoqErrorKind.Timeout,
        $"{what} within {within.TotalSeconds:0} s, so the server was left running (-Force kills only a server that does not answer)");

    /// <summary>Waits until a local process is gone (a negative timeout waits as long as it takes).</summary>
    public static async Task WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = Deadline.In(timeout);
        while (IsAlive(pid))
        {
            if (deadline.Passed)
            {
                throw new GoqException(GoqErrorIds.ServerError, GoqErrorKind.Timeout, $"process {pid} did not exit within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(50, cancel).ConfigureAwait(false);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Stops this host's standby server of <paramref name="settings"/>' port (one of several servers on a shared store):
    /// it answers no requests, so it is told with SIGTERM, which it takes as a clean stop; returns its pid once it has
    /// exited, or null when no standby of that port runs here (the active one is stopped by a request).
    /// </summary>
    public static async Task<int?> StopLocalStandbyAsync(GoqSettings settings, CancellationToken cancel)
    {
        if (ServerHost.RecordedLiveServer(settings) is not { } pid || RecordedRole(settings, pid) != "Standby")
        {
            return null;
        }

        Platform.LibC.kill(pid, 15); // SIGTERM
        await WaitForExitAsync(pid, TimeSpan.FromSeconds(30), cancel).ConfigureAwait(false);
        return pid;
    }

    /// <summary>The role the pid file records for <paramref name="pid"/> (see <see cref="ServerHost.WritePidFile"/>), or null.</summary>
    private static string? RecordedRole(GoqSettings settings, int pid)
    {
        try
        {
            var lines = File.ReadAllLines(settings.PidPath);
            return lines.Length >= 4 && lines[0] == pid.ToString(System.Globalization.CultureInfo.InvariantCulture) ? lines[3] : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<ServerStatus?> TryStatusAsync(GoqSettings settings, CancellationToken cancel, bool detailed = false)
    {
        // This server itself, not whichever of the list serves.
        using var client = new GoqClient(settings.OwnEndpoint, settings.LoadCredentials(), 500, settings.ReplayWindow);
        try
        {
            return await client.GetStatusAsync(cancel, detailed: detailed).ConfigureAwait(false);
        }
        catch (GoqException ex) when (ex.ErrorId != GoqErrorIds.CredentialsRejected)
        {
            return null;
        }
    }
}
