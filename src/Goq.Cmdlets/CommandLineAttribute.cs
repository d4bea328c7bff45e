using System.Management.Automation;

namespace Goq.Cmdlets;

/// <summary>
/// Takes only text for Submit-GoqJob's <c>-Command</c>: any other object (a JobInfo piped back in, say) would
/// otherwise become its string form and be run as a command line. A file from the pipeline (Get-ChildItem *.sh)
/// reaches this parameter first, so it is passed on marked as a file (see <see cref="FileOf"/>): a script job.
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
        return value is FileInfo file
            ? FileMark + file.FullName
            : value is string or null
            ? value
            : throw new ArgumentTransformationMetadataException(
                $"a {(inputData as PSObject)?.TypeNames.FirstOrDefault() ?? value.GetType().FullName} is not a command line: give Submit-GoqJob text, files (-LiteralPath) or a script block (-ScriptBlock)");
    }
}
