using System.Management.Automation;
using Goq.Client;
using Goq.Identity;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Revokes a user's key in a multi-user cluster (an Admin's): the server refuses their next message with
/// GoqCredentialRevoked. Their jobs stay as they are; Grant-GoqUser gives them a new key.
/// </summary>
[Cmdlet(VerbsSecurity.Revoke, "GoqUser", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(GoqUser))]
public sealed class RevokeGoqUserCommand : GoqClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = "";

    protected override void ProcessRecord()
    {
        if (ShouldProcess($"Goq user {User}", "Revoke the key"))
        {
            WriteObject(RunBlocking(token => Client.RevokeUserAsync(User, token)));
        }
    }
}
