using System.Globalization;
using Goq.Configuration;
using Goq.Hosting;

namespace Goq.Cmdlets.Hosting;

/// <summary>
/// Runs each Goq role as the cmdlet that runs it in the foreground, in a pwsh of its own: this pwsh, without a
/// profile, importing this module. A failure is reported as the engine's <see cref="FatalLine"/>, so the launcher
/// gets the error's id and kind, not text to parse.
/// </summary>
internal sealed class PwshRoleCommands(string pwshPath, string manifestPath) : IRoleCommands
{
    public ProcessCommand Server(GoqSettings settings) =>
        Pwsh($"Start-GoqServer -Home {Quote(settings.Home)} -Port {Number(settings.Port)}"
            + (settings.MetricsPort is { } metrics ? $" -MetricsPort {Number(metrics)} -MetricsAddress {Quote(settings.MetricsAddress)}" : "") + " -Wait");

    public ProcessCommand Worker(GoqSettings settings, string workerId, WorkerCapacity capacity, bool oneShot, bool jobKeeper) =>
        Pwsh($"Start-GoqWorker -Home {Quote(settings.Home)} -Port {Number(settings.Port)}{Capacity(capacity)} -WorkerId {Quote(workerId)}"
            + (oneShot ? " -OneShot" : "") + (jobKeeper ? "" : " -NoJobKeeper") + " -Wait");

    /// <summary>
    /// A worker as a service runs it: a new worker id each start (a unit may be copied to many hosts), the job keeper
    /// on, and without -Slots the host's own core count where it runs.
    /// </summary>
    public ProcessCommand ServiceWorker(GoqSettings settings, int? slots, IReadOnlyList<string>? queues, IReadOnlyList<string>? labels)
    {
        var slotsPart = slots is { } count ? $" -Slots {Number(count)}" : "";
        return Pwsh($"Start-GoqWorker -Home {Quote(settings.Home)} -Port {Number(settings.Port)}{slotsPart}{Serving(queues, labels)} -Wait");
    }

    public ProcessCommand Keeper(GoqSettings settings, string workerId, WorkerCapacity capacity) =>
        Pwsh($"Start-GoqWorker -Home {Quote(settings.Home)} -Port {Number(settings.Port)}{Capacity(capacity)} -WorkerId {Quote(workerId)} -AsKeeper -Wait");

    private static string Capacity(WorkerCapacity capacity) =>
        $" -Slots {Number(capacity.Slots)}" + (capacity.Prefetch is { } prefetch ? $" -Prefetch {Number(prefetch)}" : "")
        + Serving(capacity.Queues, capacity.Labels)
        + (capacity.AllowUsers is { Count: > 0 } allowed ? $" -AllowUser {string.Join(",", allowed.Select(Quote))}" : "");

    private static string Serving(IReadOnlyList<string>? queues, IReadOnlyList<string>? labels) =>
        (queues is { Count: > 0 } ? $" -Queue {string.Join(",", queues.Select(Quote))}" : "")
        + (labels is { Count: > 0 } ? $" -Label {string.Join(",", labels.Select(Quote))}" : "");

    private ProcessCommand Pwsh(string cmdlet)
    {
        // When the module itself does not load there is no FatalLine type: the error goes to the log as text, and the
        // launcher says the process exited and names the log.
        var script =
            "$PSStyle.OutputRendering = 'PlainText'; " +
            // The role's object (ServerInfo, WorkerInfo) is for an interactive caller: here it would only fill the
            // process's stderr file, which a clean exit removes when empty. The role logs its start in its JSON log.
            $"try {{ Import-Module {Quote(manifestPath)} -ErrorAction Stop; {cmdlet} -ErrorAction Stop | Out-Null }} " +
            "catch { [Console]::Error.WriteLine($(if ('Goq.Hosting.FatalLine' -as [type]) { [Goq.Hosting.FatalLine]::Format($_.Exception) } else { \"$_\" })); exit 3 }";
        return new ProcessCommand(pwshPath, ["-NoProfile", "-NonInteractive", "-Command", script]);
    }

    /// <summary>A value as a single-quoted pwsh string.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "''") + "'";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
