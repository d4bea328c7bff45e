using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Goq.Cmdlets.Completion;

/// <summary>Completes Stop-GoqWorker -Id with the ids of connected workers, their host and busy slots as the tooltip.</summary>
public sealed class GoqWorkerIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionSource.Ask(fakeBoundParameters, async client =>
        {
            var workers = await client.GetWorkersAsync().ConfigureAwait(false);
            return workers.Where(w => w.Id.StartsWith(wordToComplete ?? "", StringComparison.OrdinalIgnoreCase))
                .Select(w => new CompletionResult(w.Id, w.Id, CompletionResultType.ParameterValue, $"{w.Host}, {w.BusySlots} of {w.Slots} slots busy"));
        });
}
