using System.Management.Automation;
using Goq.Client;
using Goq.Identity;

namespace Goq.Cmdlets.Commands;

/// <summary>Gives a user of a multi-user cluster another role (an Admin's); it holds from their next message on.</summary>
[Cmdlet(VerbsCommon.Set, "GoqUser", SupportsShouldProcess = true)]
[OutputType(typeof(GoqUser))]
public sealed class SetGoqUserCommand : GoqClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = "";

    [Parameter(Mandatory = true)]
    public GoqRole Role { get; set; }

    protected override void ProcessRecord()
    {
        if (ShouldProcess($"Goq user {User}", $"Set the role to {Role}"))
        {
            WriteObject(RunBlocking(token => Client.SetUserRoleAsync(User, Role, token)));
        }
    }
}
