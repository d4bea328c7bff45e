using System.Management.Automation;
using Goq.Configuration;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Creates a Goq home: the .goq folder (mode 0700) with its config file, cluster secret and server keys (0600). With
/// -Force on an existing home it makes new keys (keeping its port, host and settings unless given), after asking
/// (ConfirmImpact High), and never while that home's server runs.
/// </summary>
[Cmdlet(VerbsData.Initialize, "GoqHome", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(HomeInfo))]
public sealed class InitializeGoqHomeCommand : PSCmdlet
{
    /// <summary>The home folder; default $env:GOQ_HOME, else the user's home.</summary>
    [Parameter(Position = 0)]
    [Alias("Home")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary>The address workers and clients use to reach the server (default 127.0.0.1).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerHost { get; set; }

    /// <summary>Overwrite an existing home's configuration and make new keys (every copy of .goq must then be replaced).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// A multi-user cluster: the cluster secret is the server's and its workers' only; each user gets a key of their own
    /// (Grant-GoqUser), owns their jobs, and their jobs run as them on workers started by root.
    /// </summary>
    [Parameter]
    public SwitchParameter MultiUser { get; set; }

    /// <summary>In a multi-user cluster, users list only their own jobs (Operators and Admins see all).</summary>
    [Parameter]
    public SwitchParameter PrivateJobs { get; set; }

    /// <summary>
    /// The cluster's servers, "host:port" each: one serves, the others stand by and take over when it dies (needs
    /// -StoreConnectionString). Clients and workers follow whichever serves.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Servers { get; set; }

    /// <summary>
    /// Keeps the jobs in PostgreSQL instead of the home's SQLite file, e.g. 'Host=db1;Database=goq;Username=goq'. A
    /// password given here goes to .goq/store.password (0600), never to config.json; without one, PGPASSFILE is read.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StoreConnectionString { get; set; }

    /// <summary>Seconds a server's lease on the store lasts unrenewed: the longest a standby waits to take over (default 10).</summary>
    [Parameter]
    [ValidateRange(2, 3600)]
    public int? LeaseSec { get; set; }

    /// <summary>The folder under which output goes when a job's own folder cannot take it; with several servers, on storage they share.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FallbackOutputDir { get; set; }

    protected override void EndProcessing()
    {
        var path = GoqSettings.ResolveHome(Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path));
        // Only replacing a home asks (its keys are lost, every copy of .goq must be replaced); a new home does not.
        var replacing = Force && GoqHomeInitializer.IsHome(path);
        if ((replacing || MyInvocation.BoundParameters.ContainsKey("WhatIf"))
            && !ShouldProcess(path, replacing ? "Replace the Goq home's keys (every copy of its .goq must be replaced)" : "Initialize Goq home"))
        {
            return;
        }

        try
        {
            if (MultiUser && OperatingSystem.IsLinux() && Platform.UserAccounts.EffectiveUid != 0)
            {
                WriteWarning("a multi-user cluster is set up by root: only a server and workers started by root keep the cluster secret from its users and run each job as its owner");
            }

            WriteObject(GoqHomeInitializer.Initialize(path, Port, ServerHost, Force,
                MyInvocation.BoundParameters.ContainsKey(nameof(MultiUser)) ? MultiUser.IsPresent : null,
                MyInvocation.BoundParameters.ContainsKey(nameof(PrivateJobs)) ? PrivateJobs.IsPresent : null,
                Servers is null && StoreConnectionString is null && LeaseSec is null && FallbackOutputDir is null ? null : new ClusterOptions
                {
                    Servers = Servers,
                    StoreConnectionString = StoreConnectionString,
                    LeaseSec = LeaseSec,
                    FallbackOutputDir = FallbackOutputDir is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(FallbackOutputDir),
                }));
        }
        catch (GoqException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(GoqErrorIds.HomeNotWritable, GoqErrorKind.NotWritable, $"cannot write the Goq home '{path}': {ex.Message}", path));
        }
    }
}
