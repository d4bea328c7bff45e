using System.Management.Automation;
using Goq.Configuration;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Base of every Goq cmdlet: <c>-Home</c>, a cancellation token tripped by Ctrl+C (StopProcessing), and a way to
/// wait for engine work on the pipeline thread without ever blocking past Ctrl+C.
/// </summary>
public abstract class GoqCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The Goq home (the folder holding .goq); default $env:GOQ_HOME, else the user's home.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Home { get; set; }

    protected CancellationToken CancelToken => _cancel.Token;

    /// <summary>The home as a file-system path, relative paths taken from the current location.</summary>
    protected string? HomePath =>
        Home is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Home);

    protected GoqSettings LoadSettings(int? port = null) => GoqSettings.Load(HomePath, port);

    /// <summary>Waits for engine work; Ctrl+C cancels it. Engine errors come back as terminating ErrorRecords.</summary>
    /// <summary>Runs quick, non-blocking engine work; a GoqException becomes the cmdlet's terminating error.</summary>
    protected T OrTerminate<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (GoqException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
            throw; // unreachable
        }
    }

    protected T RunBlocking<T>(Func<CancellationToken, Task<T>> work)
    {
        try
        {
            return work(CancelToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (GoqException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
            throw; // unreachable
        }
    }

    protected void RunBlocking(Func<CancellationToken, Task> work) =>
        RunBlocking<bool>(async token =>
        {
            await work(token).ConfigureAwait(false);
            return true;
        });

    protected void WriteGoqError(GoqException ex, object? target = null) => WriteError(ErrorRecordFactory.From(ex, target));

    protected string PwshPath =>
        Path.Combine((string)SessionState.PSVariable.GetValue("PSHOME"), OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh");

    protected string ManifestPath => Path.Combine(MyInvocation.MyCommand.Module?.ModuleBase ?? AppContext.BaseDirectory, "Goq.psd1");

    /// <summary>How this module runs a role in a process of its own (a detached server, worker or job keeper).</summary>
    protected Goq.Hosting.IRoleCommands RoleCommands => new Hosting.PwshRoleCommands(PwshPath, ManifestPath);

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose()
    {
        _cancel.Dispose();
        GC.SuppressFinalize(this);
    }
}
