using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;
using Goq.Client;

namespace Goq.Cmdlets;

/// <summary>
/// One connection per runspace and server endpoint, reused by every cmdlet call (a DEALER socket plus a thread is
/// too dear to make per call). A client that failed is replaced on next use.
/// </summary>
internal static class ClientCache
{
    private static readonly ConcurrentDictionary<(Guid Runspace, string Endpoint), GoqClient> Clients = new();

    public static GoqClient Get(string endpoint, int timeoutMs)
    {
        var key = (Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty, endpoint);
        while (true)
        {
            var client = Clients.GetOrAdd(key, _ => new GoqClient(endpoint, timeoutMs));
            if (client.IsUsable)
            {
                return client;
            }

            if (Clients.TryRemove(new KeyValuePair<(Guid, string), GoqClient>(key, client)))
            {
                client.Dispose();
            }
        }
    }

    public static void Clear()
    {
        foreach (var key in Clients.Keys)
        {
            if (Clients.TryRemove(key, out var client))
            {
                client.Dispose();
            }
        }
    }
}
