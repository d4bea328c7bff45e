using Goq.Client;
using Goq.Configuration;

namespace Goq.Cmdlets.Commands;

/// <summary>Base of the cmdlets that talk to a running server: settings and the cached connection.</summary>
public abstract class GoqClientCmdlet : GoqCmdlet
{
    private GoqSettings? _settings;
    private GoqClient? _client;

    protected GoqSettings Settings => _settings ??= OrTerminate(() => LoadSettings());

    /// <summary>The home's cluster secret as text, so it can be kept out of what is sent.</summary>
    protected string SecretText => OrTerminate(() => Settings.LoadCredentials().SecretText);

    // Kept for the pipeline: looking it up reads the credential files, too much to do per record.
    protected GoqClient Client => _client is { IsUsable: true } client ? client : _client = OrTerminate(() =>
    {
        // Once per cmdlet call, not per retry: a submit riding out a server restart must not be cut short by it. The
        // credentials are checked first: a home without them says so, whatever the server does.
        _ = Settings.LoadCredentials();
        Goq.Client.ServerProbe.ThrowIfNotListening(Settings);
        return ClientCache.Get(Settings);
    });
}
