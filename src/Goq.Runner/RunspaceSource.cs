using System.Management.Automation.Runspaces;

namespace Goq.Runner;

/// <summary>
/// Fresh runspaces for jobs, cheaply: every runspace shares one type table and one format table, loaded once per
/// runner (loading them per runspace was most of the cost of opening one, and made rendering slow), and the built-in
/// commands are bound up front (CreateDefault) so a job does not pay for auto-loading Microsoft.PowerShell.Utility.
/// The next runspace is opened while the worker reports the last job and hands out the next.
/// </summary>
internal sealed class RunspaceSource
{
    private readonly InitialSessionState _state;
    private (Runspace Runspace, RunnerHost Host)? _spare;

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

    /// <summary>Opens the next runspace ahead of its job.</summary>
    public void Prepare() => _spare ??= Open();

    /// <summary>A runspace no job has used, with its own host.</summary>
    public (Runspace Runspace, RunnerHost Host) Take()
    {
        var next = _spare ?? Open();
        _spare = null;
        return next;
    }

    private (Runspace, RunnerHost) Open()
    {
        var host = new RunnerHost();
        var runspace = RunspaceFactory.CreateRunspace(host, _state);
        runspace.Open();
        return (runspace, host);
    }
}
