using System.Globalization;
using System.Management.Automation.Host;

namespace Goq.Runner;

/// <summary>
/// The host of a job's runspace: non-interactive, silent (what Write-Host writes reaches the job through the
/// information stream), and the place where <c>exit N</c> lands, as <see cref="ExitCode"/>. One per runspace (reset when
/// the runspace is used again).
/// </summary>
internal sealed class RunnerHost : PSHost
{
    private readonly RunnerHostUI _ui = new();

    public int? ExitCode { get; private set; }

    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override string Name => "GoqRunner";

    public override PSHostUserInterface UI => _ui;

    public override Version Version => typeof(RunnerHost).Assembly.GetName().Version ?? new Version(0, 1);

    public override void EnterNestedPrompt() => throw new NotSupportedException("a Goq job has no prompt");

    public override void ExitNestedPrompt() => throw new NotSupportedException("a Goq job has no prompt");

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;

    /// <summary>Forgets the last job's exit code, for a runspace that is used again.</summary>
    public void Reset() => ExitCode = null;
}
