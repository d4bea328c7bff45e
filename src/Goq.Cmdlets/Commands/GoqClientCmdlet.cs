using Goq.Client;
using Goq.Configuration;

namespace Goq.Cmdlets.Commands;

/// <summary>Base of the cmdlets that talk to a running server: settings and the cached connection.</summary>
public abstract class GoqClientCmdlet : GoqCmdlet
{
    private GoqSettings? _settings;

    protected GoqSettings Settings => _settings ??= LoadSettingsOrThrow();

    protected GoqClient Client => ClientCache.Get(Settings.Endpoint, Settings.RequestTimeoutMs);

    private GoqSettings LoadSettingsOrThrow()
    {
        try
        {
            return LoadSettings();
        }
        catch (Errors.GoqException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
            throw; // unreachable
        }
    }
}
