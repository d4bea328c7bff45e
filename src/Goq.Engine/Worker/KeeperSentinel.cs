using System.Diagnostics;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// Ends a worker's jobs the moment the worker dies, whoever else is left on the host. A job runs in a session of its
/// own, so it outlives its worker (its keeper) killed with -9; until another worker on the host swept its ledger, it
/// would run on beside the copy the server hands out again once it declares the worker dead. The sentinel is a small
/// shell, started with the worker, that blocks reading a pipe only the worker can write to. When the worker dies the
/// kernel closes the pipe, the read returns, and the shell kills the process group of every job the ledger lists as
/// spawned and not ended (<c>P</c> lines without an <c>F</c> or <c>E</c> for the same attempt), if its leader still is
/// the process recorded (same start time). A worker that exits cleanly deletes its
/// ledger first, so its sentinel finds nothing to do. Processes that left their job's group are found by the next
/// worker's sweep (by the variables in their environment), as before. Linux only; costs one sh process per worker.
/// </summary>
internal sealed class KeeperSentinel : IDisposable
{
    // $1 is the ledger. The read returns at end of file: the worker is gone (it never writes). A group is killed only
    // while its leader is the very process the ledger names (its start time, field 22 of /proc/<pid>/stat), never a
    // process that took its pid since.
    private const string Script = """
        trap '' INT HUP
        read -r _
        [ -f "$1" ] || exit 0
        awk '$1=="P"{g[$2" "$3]=$4" "$5} $1=="E"||$1=="F"{delete g[$2" "$3]} END{for(k in g) print g[k]}' "$1" |
        while read -r pg start; do
            stat=$(cat "/proc/$pg/stat" 2>/dev/null) || continue
            set -- ${stat##*) }
            shift 19
            [ "$1" = "$start" ] && kill -KILL "-$pg" 2>/dev/null
        done
        """;

    private readonly Process? _shell;

    private KeeperSentinel(Process? shell) => _shell = shell;

    /// <summary>Starts the sentinel for the ledger at <paramref name="ledgerPath"/>; null where it cannot run (and why, in <paramref name="why"/>).</summary>
    public static KeeperSentinel? Start(string ledgerPath, out string? why)
    {
        why = null;
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/sh"))
        {
            why = "no /bin/sh";
            return null;
        }

        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true, // the pipe: its write end is ours alone (the runtime opens it close-on-exec)
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-c", Script, "goq-sentinel", ledgerPath })
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            return new KeeperSentinel(Process.Start(start));
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            why = ex.Message;
            return null;
        }
    }

    public int? Pid => _shell?.Id;

    /// <summary>A clean exit (the ledger already removed): the sentinel reads end of file, finds no ledger and exits.</summary>
    public void Dispose()
    {
        try
        {
            _shell?.StandardInput.Dispose();
        }
        catch (IOException)
        {
            // the shell is gone already
        }

        _shell?.Dispose();
    }
}
