using System.Management.Automation;
using Goq.Cmdlets.Hosting;
using Goq.Hosting;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Writes a systemd unit that runs this home's server or a worker in the foreground, restarts it when it fails and
/// stops it by SIGTERM (a worker finishes its running jobs first); to -Path, else to the output as text. Tells how to
/// enable it on the information stream.
/// </summary>
[Cmdlet(VerbsCommon.New, "GoqServiceUnit", SupportsShouldProcess = true)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class NewGoqServiceUnitCommand : GoqCmdlet
{
    private const int ServerStopSec = 30;
    private const int WorkerStopSec = 600;

    [Parameter(Mandatory = true, Position = 0)]
    public GoqServiceRole Role { get; set; }

    [Parameter]
    [ValidateRange(1, 4096)]
    public int? Slots { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Queue { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Label { get; set; }

    /// <summary>The account the service runs as (systemd's User=); by default the one systemd uses, root.</summary>
    [Parameter]
    [ValidatePattern("^[a-z_][a-z0-9_-]{0,31}\\$?$")]
    public string? User { get; set; }

    /// <summary>A server unit serves Prometheus metrics and the dashboard on this port (Start-GoqServer -MetricsPort).</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int? MetricsPort { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MetricsAddress { get; set; }

    [Parameter]
    [ValidateRange(1, 86_400)]
    public int? StopTimeoutSec { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void EndProcessing()
    {
        if (Role == GoqServiceRole.Server && (Slots is not null || Queue is not null || Label is not null))
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidServiceOption, Errors.GoqErrorKind.InvalidArgument,
                "-Slots, -Queue and -Label describe a worker; a server unit takes none of them", Role,
                "Leave them out for -Role Server, or write a worker unit with -Role Worker."));
        }

        if (Role == GoqServiceRole.Worker && (MetricsPort is not null || MetricsAddress is not null))
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidServiceOption, Errors.GoqErrorKind.InvalidArgument,
                "-MetricsPort and -MetricsAddress are the server's; a worker unit takes neither", Role,
                "Leave them out for -Role Worker, or write a server unit with -Role Server."));
        }

        var settings = OrTerminate(() => LoadSettings()).WithMetrics(MetricsPort, MetricsAddress);
        var commands = new PwshRoleCommands(PwshPath, ManifestPath);
        var unit = new SystemdUnit(
            $"Goq {(Role == GoqServiceRole.Server ? "server" : "worker")} of {settings.Home}",
            Role == GoqServiceRole.Server
                ? commands.Server(settings)
                : commands.ServiceWorker(settings, Slots, Queue?.Distinct(StringComparer.Ordinal).ToArray(), Label?.Distinct(StringComparer.Ordinal).ToArray()),
            settings.Home, User, StopTimeoutSec ?? (Role == GoqServiceRole.Server ? ServerStopSec : WorkerStopSec));
        var name = Role == GoqServiceRole.Server ? "goq-server.service" : "goq-worker.service";
        WarnIfTransient("pwsh", PwshPath);
        WarnIfTransient("the module", ManifestPath);
        if (Path is null)
        {
            WriteObject(unit.Render());
            WriteEnableHint(name, $"/etc/systemd/system/{name}", null);
            return;
        }

        var file = ProviderPathOf(Path);
        if (!ShouldProcess(file, "Write the systemd unit"))
        {
            return;
        }

        OrTerminate(() =>
        {
            File.WriteAllText(file, unit.Render());
            return true;
        });
        WriteObject(new FileInfo(file));
        WriteEnableHint(System.IO.Path.GetFileName(file), file, file);
    }

    /// <summary>A unit outlives the session that wrote it: a pwsh or module in a cache or a temporary folder may be gone by its next start.</summary>
    private void WarnIfTransient(string what, string path)
    {
        if (TransientPath.Why(path) is { } why)
        {
            WriteWarning($"The unit starts {what} from {path}, which is in {why}: it may be gone when the service next starts " +
                "(a cache clean, a tool update, a reboot). Install PowerShell and the Goq module in lasting places (for example " +
                "/usr/bin/pwsh and /usr/local/share/powershell/Modules), run New-GoqServiceUnit from that pwsh, and write the unit again.");
        }
    }

    private void WriteEnableHint(string name, string target, string? written)
    {
        var install = written is null
            ? $"save the text above as {target}, then"
            : System.IO.Path.GetDirectoryName(written) == "/etc/systemd/system" ? "then" : $"sudo cp '{written}' /etc/systemd/system/ &&";
        // Shown as a host message (the PSHOST tag), on the information stream: -InformationAction Ignore hides it and
        // 6>&1 captures it, while the output stays the unit alone.
        WriteInformation(new HostInformationMessage
        {
            Message = $"To enable it: {install} sudo systemctl daemon-reload && sudo systemctl enable --now {name}",
        }, ["PSHOST"]);
    }
}
