using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace Goq.Runner;

/// <summary>
/// Runspaces for jobs, cheaply: every runspace shares one type table and one format table, loaded once per runner
/// (loading them per runspace was most of the cost of opening one, and made rendering slow), and the built-in
/// commands are bound up front (CreateDefault) so a job does not pay for auto-loading Microsoft.PowerShell.Utility.
/// A runspace a job has used is used again only when that job completed and left nothing behind: its fingerprint
/// (<see cref="RunspaceFingerprint"/>) is the one it had when it was opened, and ResetRunspaceState then resets its
/// variables, location, events and breakpoints. Opening a runspace costs a few milliseconds (the FileSystem provider
/// looks up every mount point); checking and resetting one, about one. Otherwise the next runspace is opened while
/// the worker reports the last job and hands out the next.
/// </summary>
internal sealed class RunspaceSource
{
    private readonly InitialSessionState _state;
    private Lease? _ready;

    public RunspaceSource()
    {
        _state = InitialSessionState.CreateDefault();
        _state.Types.Clear();
        _state.Types.Add(new SessionStateTypeEntry(TypeTable.LoadDefaultTypeFiles()));
        _state.Formats.Clear();
        _state.Formats.Add(new SessionStateFormatEntry(FormatTable.LoadDefaultFormatFiles()));
        _state.Commands.Add(new SessionStateCmdletEntry("Write-GoqRunnerRecord", typeof(WriteRecordCommand), null));
        _state.ThreadOptions = PSThreadOptions.UseCurrentThread;
    }

    /// <summary>How many runspaces this runner has opened (and how many jobs reused one).</summary>
    public int Opened { get; private set; }

    public int Reused { get; private set; }

    /// <summary>Has a runspace ready for the next job.</summary>
    public void Prepare() => _ready ??= Open();

    /// <summary>A runspace for a job: one no job has used, or one reset to be as it was then.</summary>
    public Lease Take()
    {
        var next = _ready ?? Open();
        _ready = null;
        return next;
    }

    /// <summary>Gives a runspace back after its job; <paramref name="completed"/> when the job ended normally.</summary>
    public void Return(Lease lease, bool completed)
    {
        // Checkpoint (isolation): a runspace is reused only when its job ended normally and the fingerprint of what a
        // reset leaves alone is exactly what it was when the runspace was opened.
        if (completed && _ready is null && lease.Baseline is { } baseline
            && lease.Runspace.RunspaceStateInfo.State == RunspaceState.Opened
            && lease.Runspace.RunspaceAvailability == RunspaceAvailability.Available
            && RunspaceFingerprint.Take(lease.Runspace) is { } now && now.Matches(baseline))
        {
            try
            {
                // The reset sets the location to the process's directory, which costs a listing of each of its
                // ancestors (see JobExecution.EnterLocation): from the root, it costs nothing.
                LeaveForRoot();
                lease.Runspace.ResetRunspaceState();
                lease.Host.Reset();
                _ready = lease;
                Reused++;
                return;
            }
            catch (Exception ex) when (ex is PSInvalidOperationException or InvalidRunspaceStateException)
            {
                // not resettable after all: a fresh one
            }
        }

        lease.Runspace.Dispose();
    }

    private static void LeaveForRoot()
    {
        if (!OperatingSystem.IsWindows())
        {
            Environment.CurrentDirectory = "/";
        }
    }

    private Lease Open()
    {
        var host = new RunnerHost();
        var runspace = RunspaceFactory.CreateRunspace(host, _state);
        var directory = Environment.CurrentDirectory;
        LeaveForRoot(); // a runspace opens where the process is: see Return
        try
        {
            runspace.Open();
        }
        finally
        {
            try
            {
                Environment.CurrentDirectory = directory; // the job that takes it may already be in its own
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile: the job that enters a folder enters it itself
            }
        }

        TreatRootAsFixed(runspace);
        Opened++;
        return new Lease(runspace, host, RunspaceFingerprint.Take(runspace));
    }

    /// <summary>
    /// The FileSystem provider marks the root drive as mounted by the system, and PowerShell then checks on every use of
    /// it (each location a job or a reset sets) that its volume is still there, by reading the process's mount table:
    /// about a seventh of a trivial job's CPU in a runner. On Unix the root is never unmounted, so it is marked fixed.
    /// The flag is PowerShell's own non-public one; where it is not found, nothing changes.
    /// </summary>
    private static void TreatRootAsFixed(Runspace runspace)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            var flag = typeof(PSDriveInfo).GetProperty("IsAutoMounted", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
            foreach (var drive in runspace.SessionStateProxy.Drive.GetAllForProvider("FileSystem").Where(d => d.Root == "/"))
            {
                flag?.SetValue(drive, false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // left as it was: only slower
        }
    }

    /// <summary>A runspace lent to one job, its host, and its fingerprint when opened (null: never reused).</summary>
    internal sealed record Lease(Runspace Runspace, RunnerHost Host, RunspaceFingerprint? Baseline);
}
