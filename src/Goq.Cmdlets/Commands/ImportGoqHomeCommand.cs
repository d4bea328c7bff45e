using System.Management.Automation;
using Goq.Configuration;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Makes a folder a home of the cluster an Export-GoqHome archive names: .goq (0700) with its config and keys (0600).
/// A home of another cluster is refused unless -Force.
/// </summary>
[Cmdlet(VerbsData.Import, "GoqHome", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HomeInfo))]
public sealed class ImportGoqHomeCommand : GoqCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        var file = ProviderPathOf(Path);
        var home = GoqSettings.ResolveHome(HomePath);
        if (!ShouldProcess(home, $"Make it a home of the cluster in '{file}'"))
        {
            return;
        }

        WriteObject(OrTerminate(() => HomeArchive.Import(file, home, Force)));
    }
}
