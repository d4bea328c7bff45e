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
    protected string? HomePath => Home is null ? null : ProviderPathOf(Home);

    /// <summary>
    /// A path as the file system knows it, relative ones taken from the current location. An absolute Unix path is one
    /// already (no PowerShell drive can be in it), so it skips PowerShell's resolution, which reads the mount table on
    /// every call to validate the drive: a quarter of a short Submit-GoqJob's time.
    /// </summary>
    protected string ProviderPathOf(string path) =>
        !OperatingSystem.IsWindows() && path.StartsWith('/') ? Path.GetFullPath(path) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>The current location's file-system path (without PowerShell's drive validation when it is a plain Unix path).</summary>
    protected string CurrentDirectory
    {
        get
        {
            var location = SessionState.Path.CurrentFileSystemLocation;
            return !OperatingSystem.IsWindows() && location.Path.StartsWith('/') ? location.Path : location.ProviderPath;
        }
    }

    protected GoqSettings LoadSettings(int? port = null) => GoqSettings.Load(HomePath, port);

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

    /// <summary>
    /// Waits on the pipeline thread for engine work, the one way a cmdlet blocks: Ctrl+C cancels the work's token and
    /// the pipeline stops (PipelineStoppedException). An engine error becomes the cmdlet's terminating error, except
    /// those <paramref name="handled"/> picks, which are thrown as they are for the caller to deal with (say, a
    /// non-terminating error for one item of many).
    /// </summary>
    protected T RunBlocking<T>(Func<CancellationToken, Task<T>> work, Func<GoqException, bool>? handled = null)
    {
        try
        {
            var task = work(CancelToken);
            if (!task.IsCompleted)
            {
                // Blocks without spinning: a spinning wait took a core the server and this client's socket thread
                // needed for the very reply it waits for (2 cores). Ctrl+C cancels the work, which completes the task.
                ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
            }

            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (GoqException ex) when (handled?.Invoke(ex) != true)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
            throw; // unreachable
        }
    }

    /// <inheritdoc cref="RunBlocking{T}"/>
    protected void RunBlocking(Func<CancellationToken, Task> work, Func<GoqException, bool>? handled = null) =>
        RunBlocking<bool>(async token =>
        {
            await work(token).ConfigureAwait(false);
            return true;
        }, handled);

    /// <summary>Stops the pipeline once Ctrl+C was pressed: for loops that do their own work between engine calls.</summary>
    protected void ThrowIfStopped()
    {
        if (CancelToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected void WriteGoqError(GoqException ex, object? target = null) => WriteError(ErrorRecordFactory.From(ex, target));

    protected string PwshPath =>
        Path.Combine((string)SessionState.PSVariable.GetValue("PSHOME"), OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh");

    protected string ManifestPath => Path.Combine(MyInvocation.MyCommand.Module?.ModuleBase ?? AppContext.BaseDirectory, "Goq.psd1");

    /// <summary>How this module runs a role in a process of its own (a detached server, worker or job keeper).</summary>
    protected Goq.Hosting.IRoleCommands RoleCommands => new Hosting.PwshRoleCommands(PwshPath, ManifestPath);

    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>
    /// Called on the pipeline thread when the pipeline ends, also after Ctrl+C (when EndProcessing is not): the last
    /// chance to warn about work the stop cut short.
    /// </summary>
    protected virtual void OnDisposing()
    {
    }

    public void Dispose()
    {
        OnDisposing();
        _cancel.Dispose();
        GC.SuppressFinalize(this);
    }
}
