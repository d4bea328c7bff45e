using System.Globalization;
using System.Text;

namespace Goq.Hosting;

/// <summary>
/// A systemd service unit that runs a Goq role in the foreground (Type=simple): restarted when it fails, stopped by
/// SIGTERM to its main process only (KillMode=mixed), which makes a worker finish its running jobs and leave (see
/// <see cref="TerminationSignal"/>); whatever is left when <see cref="StopTimeoutSec"/> runs out is killed.
/// </summary>
public sealed record SystemdUnit(string Description, ProcessCommand Command, string Home, string? User, int StopTimeoutSec)
{
    /// <summary>The unit file's text.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        text.AppendLine("[Unit]");
        text.AppendLine("Description=" + Escape(Description));
        text.AppendLine("Wants=network-online.target");
        text.AppendLine("After=network-online.target");
        text.AppendLine();
        text.AppendLine("[Service]");
        text.AppendLine("Type=simple");
        if (User is not null)
        {
            text.AppendLine("User=" + User);
        }

        text.AppendLine("Environment=" + Quote("GOQ_HOME=" + Home, execLine: false));
        text.AppendLine("ExecStart=" + string.Join(' ', new[] { Command.Program }.Concat(Command.Arguments).Select(a => Quote(a, execLine: true))));
        text.AppendLine("Restart=on-failure");
        text.AppendLine("RestartSec=5");
        // SIGTERM to the main process alone: the role stops cleanly, a worker after its running jobs (the jobs run in
        // sessions of their own, in this unit's cgroup, and must not be signalled by systemd first).
        text.AppendLine("KillMode=mixed");
        text.AppendLine("KillSignal=SIGTERM");
        text.AppendLine("TimeoutStopSec=" + StopTimeoutSec.ToString(CultureInfo.InvariantCulture));
        text.AppendLine();
        text.AppendLine("[Install]");
        text.AppendLine("WantedBy=multi-user.target");
        return text.ToString();
    }

    /// <summary>
    /// A word systemd reads back as it is: double-quoted, with backslash and quote escaped, '%' (a specifier) doubled,
    /// and in a command line '$' (a variable) doubled too.
    /// </summary>
    public static string Quote(string word, bool execLine)
    {
        var escaped = word.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("%", "%%");
        return "\"" + (execLine ? escaped.Replace("$", "$$") : escaped) + "\"";
    }

    // A free-text setting: specifiers doubled, and kept on one line.
    private static string Escape(string text) => text.Replace("%", "%%").Replace('\n', ' ').Replace('\r', ' ');
}
