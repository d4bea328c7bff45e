using Goq.Client;
using Goq.Configuration;

namespace Goq.Cmdlets.Commands;

/// <summary>Base of the cmdlets that talk to a running server: settings and the cached connection.</summary>
public abstract class GoqClientCmdlet : GoqCmdlet
{
    private GoqSettings? _settings;
    private GoqClient? _client;

    protected GoqSettings Settings => _settings ??= LoadSettingsOrThrow();

    /// <summary>The home's cluster secret as text, so it can be kept out of what is sent.</summary>
    protected string SecretText
    {
        get
        {
            try
            {
                return Settings.LoadCredentials().SecretText;
            }
            catch (Errors.GoqException ex)
            {
                ThrowTerminatingError(ErrorRecordFactory.From(ex));
                throw; // unreachable
            }
        }
    }

    protected GoqClient Client
    {
        get
        {
            try
            {
                // Kept for the pipeline: looking it up reads the credential files, too much to do per record.
                return _client is { IsUsable: true } client ? client : _client = ClientCache.Get(Settings);
            }
            catch (Errors.GoqException ex)
            {
                ThrowTerminatingError(ErrorRecordFactory.From(ex));
                throw; // unreachable
            }
        }
    }

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
