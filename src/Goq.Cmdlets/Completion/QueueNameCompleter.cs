using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Goq.Cmdlets.Completion;

/// <summary>Completes -Queue and Set-GoqQueue -Name with the server's queues, their counts as the tooltip.</summary>
public sealed class QueueNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionSource.Ask(fakeBoundParameters, async client =>
        {
            var queues = await client.GetQueuesAsync().ConfigureAwait(false);
            return queues.Where(q => q.Name.StartsWith(wordToComplete ?? "", StringComparison.OrdinalIgnoreCase))
                .Select(q => new CompletionResult(q.Name, q.Name, CompletionResultType.ParameterValue,
                    $"{q.WaitingJobs} waiting, {q.RunningJobs} running, {q.Workers} workers{(q.ThrottleLimit > 0 ? $", limit {q.ThrottleLimit}" : "")}"));
        });
}
