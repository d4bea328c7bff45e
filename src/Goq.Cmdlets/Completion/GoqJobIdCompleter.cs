using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Goq.Cmdlets.Completion;

/// <summary>Completes -Id of the job cmdlets with job ids from the server: waiting and running first, name and command as the tooltip.</summary>
public sealed class GoqJobIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionSource.Ask(fakeBoundParameters, async client =>
        {
            var jobs = await CompletionSource.JobsAsync(client).ConfigureAwait(false);
            return jobs
                .Select(job => (Text: job.Id.ToString(CultureInfo.InvariantCulture), Job: job))
                .Where(c => c.Text.StartsWith(wordToComplete ?? "", StringComparison.Ordinal))
                .Select(c => new CompletionResult(c.Text, c.Text, CompletionResultType.ParameterValue, CompletionSource.Tooltip(c.Job)));
        });
}
