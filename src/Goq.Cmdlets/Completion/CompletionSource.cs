using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;
using Goq.Client;
using Goq.Configuration;

namespace Goq.Cmdlets.Completion;

/// <summary>
/// What the tab completers ask the server, within 300 ms or not at all: a completer that waits longer, or writes an
/// error, spoils typing. Clients are kept per endpoint with a request time-out of their own.
/// </summary>
internal static class CompletionSource
{
    private static readonly TimeSpan Within = TimeSpan.FromMilliseconds(300);
    private static readonly ConcurrentDictionary<string, GoqClient> Clients = new();

    /// <summary>The answer of <paramref name="ask"/> for the home the command line names (or the default), or nothing.</summary>
    public static IEnumerable<CompletionResult> Ask(IDictionary fakeBoundParameters, Func<GoqClient, Task<IEnumerable<CompletionResult>>> ask)
    {
        try
        {
            var home = fakeBoundParameters["Home"] as string;
            var settings = GoqSettings.Load(home);
            ServerProbe.ThrowIfNotListening(settings);
            var client = Clients.GetOrAdd(settings.Endpoint, _ => GoqClient.ForHome(settings, requestTimeoutMs: (int)Within.TotalMilliseconds));
            if (!client.IsUsable)
            {
                Clients.TryRemove(settings.Endpoint, out _);
                return [];
            }

            var answer = ask(client);
            return answer.Wait(Within) ? answer.Result.ToList() : [];
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return []; // Checkpoint: a completer never throws and never writes an error
        }
    }

    /// <summary>Waiting and running jobs first (newest first), then the most recent ended ones.</summary>
    public static async Task<IReadOnlyList<JobInfo>> JobsAsync(GoqClient client)
    {
        var (active, ended) = await client.GetActiveAndRecentAsync(recent: 200, maxActive: 1000).ConfigureAwait(false);
        return [.. active.OrderByDescending(j => j.Id), .. ended.OrderByDescending(j => j.Id)];
    }

    public static string Tooltip(JobInfo job)
    {
        var command = job.Command.Trim();
        return $"{job.State}{(job.Name is { } name ? $" {name}" : "")}: {(command.Length > 100 ? command[..100] + "..." : command)}";
    }
}
