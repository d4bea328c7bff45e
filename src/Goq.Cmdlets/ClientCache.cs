using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;
using System.Security.Cryptography;
using Goq.Client;
using Goq.Configuration;

namespace Goq.Cmdlets;

/// <summary>
/// One connection per runspace and server endpoint, reused by every cmdlet call (a DEALER socket plus a thread is
/// too dear to make per call). A client that failed is replaced on next use; a runspace's clients are closed with it,
/// so ForEach-Object -Parallel and runspace pools leave no sockets or threads behind.
/// </summary>
internal static class ClientCache
{
    private static readonly ConcurrentDictionary<(Guid Runspace, string Endpoint, string Keys), GoqClient> Clients = new();
    private static readonly ConcurrentDictionary<Guid, bool> Watched = new();

    public static GoqClient Get(GoqSettings settings)
    {
        // Keyed by the credentials too: two homes may name one server with different secrets (or new keys after a re-init),
        // and a user key is its id as much as its bytes (a client signs with both).
        var credentials = settings.LoadCredentials();
        var keys = Convert.ToHexString(SHA256.HashData([.. credentials.Secret, .. credentials.ServerPublicKey, .. credentials.KeyId ?? []]));
        var runspace = Runspace.DefaultRunspace;
        var key = (runspace?.InstanceId ?? Guid.Empty, settings.Endpoint, keys);
        if (runspace is not null && Watched.TryAdd(runspace.InstanceId, true))
        {
            runspace.StateChanged += (_, e) =>
            {
                if (e.RunspaceStateInfo.State is RunspaceState.Closing or RunspaceState.Closed or RunspaceState.Broken)
                {
                    Release(runspace.InstanceId);
                }
            };
        }

        while (true)
        {
            var client = Clients.GetOrAdd(key, _ => GoqClient.ForHome(settings, credentials));
            if (client.IsUsable)
            {
                return client;
            }

            if (Clients.TryRemove(new KeyValuePair<(Guid, string, string), GoqClient>(key, client)))
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Closes the clients of a runspace that is closing.</summary>
    private static void Release(Guid runspace)
    {
        if (!Watched.TryRemove(runspace, out _))
        {
            return;
        }

        foreach (var key in Clients.Keys.Where(k => k.Runspace == runspace))
        {
            if (Clients.TryRemove(key, out var client))
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
