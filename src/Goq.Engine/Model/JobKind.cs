namespace Goq;

/// <summary>How a worker turns a job's command into a process.</summary>
public enum JobKind
{
    /// <summary>A command line run through the shell (bash -c on Unix, pwsh -Command on Windows).</summary>
    Shell,

    /// <summary>A program run with an exact argument list: no shell, no re-splitting.</summary>
    Exec,

    /// <summary>A script file: .ps1 through pwsh, otherwise directly when executable, else through bash.</summary>
    Script,

    /// <summary>
    /// A PowerShell script block, run in a fresh runspace of a warm pwsh runner on the worker; what it outputs comes back
    /// as serialized objects (CliXml) besides the rendered text.
    /// </summary>
    ScriptBlock,
}
