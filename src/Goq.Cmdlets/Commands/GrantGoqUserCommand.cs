using System.Management.Automation;
using Goq.Client;
using Goq.Configuration;
using Goq.Errors;
using Goq.Identity;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Gives a user of a multi-user cluster a key of their own and a role (an Admin's, on the server's host). Run as root
/// where the user has an account, it writes their client home (~user/.goq: config, the server's public key, their key;
/// theirs, 0700/0600), so that their next Submit-GoqJob just works; with -OutFile it writes the same as an archive that
/// Import-GoqHome installs on another host. A user granted again gets a new key, and the old one is refused.
/// </summary>
[Cmdlet(VerbsSecurity.Grant, "GoqUser", SupportsShouldProcess = true)]
[OutputType(typeof(GoqUser))]
public sealed class GrantGoqUserCommand : GoqClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = "";

    [Parameter]
    public GoqRole Role { get; set; } = GoqRole.User;

    /// <summary>Write the user's home as an archive here (for Import-GoqHome on their host) instead of into their home folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    protected override void ProcessRecord()
    {
        if (!UserNames.IsValid(User))
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.InvalidUser, GoqErrorKind.InvalidArgument,
                $"'{User}' is not a user name: 1 to {UserNames.MaxLength} letters, digits, '.', '_' or '-', not starting with '-' or '.'", User));
            return;
        }

        // Checked before the key is made: a key nobody can be given is never made.
        var outFile = OutFile is null ? null : ProviderPathOf(OutFile);
        Platform.UserAccount? account = null;
        if (outFile is null)
        {
            try
            {
                account = UserHomes.AccountToWrite(User);
            }
            catch (GoqException ex)
            {
                WriteError(ErrorRecordFactory.From(ex));
                return;
            }
        }

        var target = outFile ?? System.IO.Path.Combine(account!.Home, GoqDefaults.DotDir);
        if (!ShouldProcess($"Goq user {User}", $"Grant the role {Role} and a new key, written to {target}"))
        {
            return;
        }

        var reply = RunBlocking(token => Client.GrantUserAsync(User, Role, token));
        var key = reply.KeyText is { } text ? UserKey.Parse(text) : null;
        if (key is null)
        {
            WriteError(ErrorRecordFactory.Create(GoqErrorIds.ServerError, GoqErrorKind.InvalidData, $"the server granted {User} but sent no key", User));
            return;
        }

        try
        {
            if (outFile is not null)
            {
                HomeArchive.ExportUser(Settings, key, outFile);
            }
            else
            {
                UserHomes.Write(account!, Settings, key);
            }
        }
        catch (GoqException ex)
        {
            WriteError(ErrorRecordFactory.From(ex, User));
            return;
        }

        WriteVerbose($"{User}'s key {key.KeyIdText} was written to {target}");
        var output = PSObject.AsPSObject(reply.User);
        output.Properties.Add(new PSNoteProperty("KeyWrittenTo", target));
        WriteObject(output);
    }
}
