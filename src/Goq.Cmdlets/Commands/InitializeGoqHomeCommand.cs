using System.Management.Automation;
using Goq.Configuration;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>Creates a Goq home: the .goq folder (mode 0700) with its config file, cluster secret and server keys (0600).</summary>
[Cmdlet(VerbsData.Initialize, "GoqHome", SupportsShouldProcess = true)]
[OutputType(typeof(HomeInfo))]
public sealed class InitializeGoqHomeCommand : PSCmdlet
{
    /// <summary>The home folder; default $env:GOQ_HOME, else the user's home.</summary>
    [Parameter(Position = 0)]
    [Alias("Home")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary>The address workers and clients use to reach the server (default 127.0.0.1).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerHost { get; set; }

    /// <summary>Overwrite an existing home's configuration and make new keys (every copy of .goq must then be replaced).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        var path = GoqSettings.ResolveHome(Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path));
        if (!ShouldProcess(path, "Initialize Goq home"))
        {
            return;
        }

        try
        {
            WriteObject(GoqHomeInitializer.Initialize(path, Port, ServerHost, Force));
        }
        catch (GoqException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create("GoqHomeNotWritable", ErrorCategory.WriteError, $"cannot write the Goq home '{path}': {ex.Message}", path,
                "Choose a folder you can write to (-Path), or fix the permissions of this one."));
        }
    }
}
