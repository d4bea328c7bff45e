using System.Management.Automation;

namespace Goq.Cmdlets;

/// <summary>
/// Takes only text for Submit-GoqJob's <c>-Command</c>: any other object (a JobInfo piped back in, say) would
/// otherwise become its string form and be run as a command line. A file given as the command (Get-Item x.sh) is
/// passed on marked as a file (see <see cref="FileOf"/>): a script job. (Piped records are mapped by SubmitInput.)
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class CommandLineAttribute : ArgumentTransformationAttribute
{
    // No command line can hold a NUL (Submit-GoqJob refuses them), so this prefix cannot come from a user.
    private const string FileMark = "\0file:";

    /// <summary>The file a marked value names, or null for a command line.</summary>
    public static string? FileOf(string command) => command.StartsWith(FileMark, StringComparison.Ordinal) ? command[FileMark.Length..] : null;

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        // A script block is left as it is: it is not a string, so the binder gives it to -ScriptBlock (a position both
        // share) rather than fail on -Command.
        return value is FileInfo file
            ? FileMark + file.FullName
            : value is string or null or ScriptBlock
            ? value
            : throw new ArgumentTransformationMetadataException(
                $"a {(inputData as PSObject)?.TypeNames.FirstOrDefault() ?? value.GetType().FullName} is not a command line: give Submit-GoqJob text, files (-LiteralPath) or a script block (-ScriptBlock)");
    }
}
