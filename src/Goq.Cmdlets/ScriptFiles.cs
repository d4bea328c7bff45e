using System.Management.Automation;
using System.Management.Automation.Language;

namespace Goq.Cmdlets;

/// <summary>
/// PowerShell script files (.ps1) submitted as script-block jobs, as Start-Job -FilePath runs them: the file is read
/// when it is submitted, its <c>$using:</c> values are taken then from the caller's scope, and it runs on the worker
/// as a script block, so its objects and streams come back and -ArgumentList binds to its param(). Each file is read
/// once per pipeline, however many jobs it makes.
/// </summary>
internal sealed class ScriptFiles(SessionState callerState, int depth)
{
    private readonly Dictionary<string, Script> _read = new(StringComparer.Ordinal);

    /// <summary>A script read from a file: its text and what it takes from the submitter; or why it cannot run.</summary>
    internal sealed record Script(string Text, ScriptJobData? Data, ErrorRecord? Error);

    /// <summary>Whether Goq runs this file as a script block (a .ps1) rather than as a program on the worker.</summary>
    public static bool IsPowerShell(string path) => path.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase);

    /// <summary>The script in <paramref name="fullPath"/> (an existing .ps1), read and checked at its first use.</summary>
    public Script Get(string fullPath)
    {
        if (!_read.TryGetValue(fullPath, out var script))
        {
            script = Read(fullPath);
            _read[fullPath] = script;
        }

        return script;
    }

    private Script Read(string fullPath)
    {
        var ast = Parser.ParseFile(fullPath, out _, out var errors);
        if (errors.Length > 0)
        {
            var first = errors[0];
            return new Script("", null, ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidJobSpec, Errors.GoqErrorKind.NotParsable,
                $"the script '{fullPath}' does not parse (line {first.Extent.StartLineNumber}: {first.Message}); it was not submitted", fullPath,
                "Correct the script so that it parses (pwsh -NoProfile -File runs it the same way), and submit it again."));
        }

        var text = ast.Extent.Text;
        var data = ScriptJobData.Capture(ScriptBlock.Create(text), callerState, depth, out var missing);
        if (missing is not null)
        {
            return new Script("", null, ErrorRecordFactory.Create(Errors.GoqErrorIds.UsingVariableNotFound, Errors.GoqErrorKind.NotFound,
                $"the script '{fullPath}' uses $using:{missing}, but no variable '{missing}' exists here; it was not submitted", missing,
                $"Define ${missing} before submitting the script, or remove $using:{missing} from it."));
        }

        return new Script(text, data, null);
    }
}
