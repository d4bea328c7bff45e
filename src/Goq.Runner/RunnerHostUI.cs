using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace Goq.Runner;

/// <summary>
/// A user interface with nobody behind it: writes go nowhere (the streams carry them) and anything that would wait
/// for an answer fails at once, so a job that prompts fails instead of hanging its slot.
/// </summary>
internal sealed class RunnerHostUI : PSHostUserInterface
{
    public override PSHostRawUserInterface? RawUI => null;

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw NoUser();

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) => throw NoUser();

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw NoUser();

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw NoUser();

    public override string ReadLine() => throw NoUser();

    public override SecureString ReadLineAsSecureString() => throw NoUser();

    public override void Write(string value)
    {
    }

    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value)
    {
    }

    public override void WriteDebugLine(string message)
    {
    }

    public override void WriteErrorLine(string value)
    {
    }

    public override void WriteLine(string value)
    {
    }

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
    }

    public override void WriteVerboseLine(string message)
    {
    }

    public override void WriteWarningLine(string message)
    {
    }

    private static PSInvalidOperationException NoUser() =>
        new("a Goq job runs without a user to answer: pass what it needs as arguments (-ArgumentList, -InputObject, $using:)");
}
