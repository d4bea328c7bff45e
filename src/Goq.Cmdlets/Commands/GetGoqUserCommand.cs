using System.Management.Automation;
using Goq.Client;
using Goq.Identity;

namespace Goq.Cmdlets.Commands;

/// <summary>The users of a multi-user cluster: name, role, key id, when they were granted and last seen, and whether their key was revoked.</summary>
[Cmdlet(VerbsCommon.Get, "GoqUser")]
[OutputType(typeof(GoqUser))]
public sealed class GetGoqUserCommand : GoqClientCmdlet
{
    /// <summary>Only the users with these names (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [Alias("Name")]
    [SupportsWildcards]
    public string[]? User { get; set; }

    protected override void EndProcessing()
    {
        var patterns = User?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var user in RunBlocking(token => Client.GetUsersAsync(token)))
        {
            if (patterns is null || patterns.Any(p => p.IsMatch(user.Name)))
            {
                WriteObject(user);
            }
        }
    }
}
