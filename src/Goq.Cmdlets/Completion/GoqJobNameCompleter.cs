using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Goq.Cmdlets.Completion;

/// <summary>Completes -Name with the names of jobs the server knows (waiting and running ones first).</summary>
public sealed class GoqJobNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionSource.Ask(fakeBoundParameters, async client =>
        {
            var pattern = new WildcardPattern((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            var jobs = await CompletionSource.JobsAsync(client).ConfigureAwait(false);
            return jobs.Where(j => j.Name is { } name && pattern.IsMatch(name))
                .GroupBy(j => j.Name!, StringComparer.OrdinalIgnoreCase)
                .Select(g => new CompletionResult(Quote(g.Key), g.Key, CompletionResultType.ParameterValue, $"{g.Count()} job(s), e.g. {CompletionSource.Tooltip(g.First())}"));
        });

    private static string Quote(string name) => name.Any(c => char.IsWhiteSpace(c) || "'\"$`;(){}|&<>,".Contains(c)) ? $"'{name.Replace("'", "''")}'" : name;
}
