using System.Management.Automation;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// The queues: every one that jobs, workers or a throttle limit name, and the default one, with their waiting, blocked,
/// held and running jobs, their limit and the workers that serve them.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GoqQueue")]
[OutputType(typeof(QueueInfo))]
public sealed class GetGoqQueueCommand : GoqClientCmdlet
{
    /// <summary>Only the queues with these names (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public string[]? Name { get; set; }

    protected override void EndProcessing()
    {
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var queue in RunBlocking(token => Client.GetQueuesAsync(token)))
        {
            if (patterns is null || patterns.Any(p => p.IsMatch(queue.Name)))
            {
                WriteObject(queue);
            }
        }
    }
}
