using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace Goq;

/// <summary>
/// The verbose stream of the cmdlet that called into the job source adapter (Get-Job, Receive-Job -Id, ...). The
/// JobSourceAdapter API gives an adapter no cmdlet to write to, so it is found through PowerShell's own (non-public)
/// current command. Best effort: off the pipeline thread, or where those members are not there, nothing is written.
/// </summary>
internal static class CallerVerbose
{
    private const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    public static void Write(string message)
    {
        try
        {
            if (Runspace.DefaultRunspace is not { } runspace)
            {
                return;
            }

            var context = runspace.GetType().GetProperty("ExecutionContext", Any)?.GetValue(runspace);
            var processor = context?.GetType().GetProperty("CurrentCommandProcessor", Any)?.GetValue(context);
            if (processor?.GetType().GetProperty("Command", Any)?.GetValue(processor) is Cmdlet cmdlet)
            {
                cmdlet.WriteVerbose(message);
            }
        }
        catch (Exception ex) when (ex is TargetInvocationException or InvalidOperationException or PSInvalidOperationException
            or AmbiguousMatchException or NotSupportedException)
        {
            // Checkpoint: telling why Goq's jobs are missing must never break Get-Job.
        }
    }
}
