using Goq.SystemTests.Support;
using Goq.Tests.Support;
using Goq.Worker;

namespace Goq.SystemTests.Worker;

/// <summary>
/// A command or program job's peak memory is its own, not the worker's: before the shim, every job started from this
/// .NET process reported at least this process's high-water mark (about 200 MB for <c>true</c>). Linux, as the suite.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class JobShimTests : IDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly TempDir _dir = new();
    private readonly JobRunner _runner = new(new JobRunnerOptions { OutputDrainGrace = TimeSpan.FromSeconds(2) });

    private async Task<(JobOutcome Outcome, List<OutputLine> Lines, int Pid)> RunAsync(JobSpec spec)
    {
        var lines = new List<OutputLine>();
        var pid = 0;
        var outcome = await _runner.RunAsync(spec with { WorkingDirectory = _dir.Path }, (p, _) => pid = p, lines.Add, CancellationToken.None);
        return (outcome, lines, pid);
    }

    /// <summary>Makes this process's own peak large, as a busy worker's is, so a job that inherits it cannot pass.</summary>
    private static byte[] Ballast()
    {
        var ballast = new byte[256 * MiB];
        for (var i = 0; i < ballast.Length; i += 4096)
        {
            ballast[i] = 1;
        }

        return ballast;
    }

    [Fact]
    public async Task SmallProgram_ReportsASmallPeak_ThoughTheWorkerIsLarge()
    {
        var ballast = Ballast();
        var (program, _, _) = await RunAsync(new JobSpec { Kind = JobKind.Exec, Command = "/bin/true" });
        var (command, _, _) = await RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "true" });
        GC.KeepAlive(ballast);

        Assert.Equal((JobState.Completed, JobState.Completed), (program.State, command.State));
        Assert.InRange(program.Usage!.MaxRssBytes!.Value, 1, 20 * MiB);
        Assert.InRange(command.Usage!.MaxRssBytes!.Value, 1, 20 * MiB);
    }

    [Fact]
    public async Task ProgramThatTouches200MB_ReportsAtLeastThat()
    {
        // bash holds the 200,000,000 bytes it read in one string.
        var (outcome, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Shell, Command = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}" });

        Assert.Equal(JobState.Completed, outcome.State);
        Assert.Equal([new(OutputStream.Stdout, "200000000")], lines);
        Assert.True(outcome.Usage!.MaxRssBytes >= 200_000_000, $"peak {outcome.Usage.MaxRssBytes} bytes");
    }

    [Fact]
    public async Task Job_KeepsItsPidSessionSignalsAndExitCode()
    {
        // Its own pid leads its session and process group; SIGINT is not ignored (an async list would ignore it).
        var (outcome, lines, pid) = await RunAsync(new JobSpec
        {
            Kind = JobKind.Shell,
            Command = "echo $$ $(ps -o sid= -p $$) $(ps -o pgid= -p $$) $(grep SigIgn /proc/$$/status | cut -f2); read x; echo read=$?; exit 7",
        });

        Assert.Equal(7, outcome.ExitCode);
        var fields = lines[0].Text.Split(' ');
        Assert.Equal([$"{pid}", $"{pid}", $"{pid}"], fields[..3]);
        Assert.Equal(0UL, Convert.ToUInt64(fields[3], 16) & 0x2UL); // SIGINT (bit 1) not ignored
        Assert.Equal("read=1", lines[1].Text); // stdin is /dev/null
    }

    /// <summary>Zombie children of this process whose command is <paramref name="comm"/> (ppid is us, state Z).</summary>
    private static int ZombieChildren(string comm)
    {
        var count = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string children;
            try
            {
                children = File.ReadAllText(Path.Combine(task, "children"));
            }
            catch (IOException)
            {
                continue;
            }

            foreach (var pid in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                try
                {
                    var stat = File.ReadAllText($"/proc/{pid}/stat");
                    var end = stat.LastIndexOf(')');
                    if (stat[(stat.IndexOf('(') + 1)..end] == comm && stat[end + 2] == 'Z')
                    {
                        count++;
                    }
                }
                catch (IOException)
                {
                }
            }
        }

        return count;
    }

    [Fact]
    public async Task BackgroundChildrenAdoptedWhileOtherJobsStart_AreReaped()
    {
        // A job whose main process exits at once leaves `sleep` behind; when that happens while another job's shim is
        // starting (this process a subreaper), sleep becomes our child: nothing but the sweep waits for it.
        var leaver = new JobSpec { Kind = JobKind.Shell, Command = "sleep 0.3 >/dev/null 2>&1 & exit 0" };
        var quick = new JobSpec { Kind = JobKind.Exec, Command = "/bin/true" };
        var adopted = StrayReaper.Adopted;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (StrayReaper.Adopted - adopted < 5 && DateTime.UtcNow < deadline)
        {
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => RunAsync(i % 3 == 0 ? leaver : quick)));
            Assert.All(outcomes, o => Assert.Equal(JobState.Completed, o.Outcome.State));
        }

        Assert.True(StrayReaper.Adopted - adopted >= 5, $"only {StrayReaper.Adopted - adopted} adoptions in 90 s: the test did not exercise the window");
        await Wait.UntilAsync(() => ZombieChildren("sleep") == 0 && StrayReaper.Pending == 0, 30_000,
            "no zombie sleep child of this process and no stray pending");
    }

    [Fact]
    public void WaitingForAProcessThatIsNotOurChild_FailsTheJobInsteadOfHanging()
    {
        // As when prctl was refused and the job went to init: wait4 says ECHILD. pid 1 is never our child.
        var process = SpawnedJobProcess.WaitFor(1);

        Assert.True(process.Exited.IsFaulted, "Exited did not complete");
        Assert.Contains("not a child of this worker", process.Exited.Exception!.InnerException!.Message);
    }

    [Fact]
    public async Task FileWithoutAnExecFormat_CannotStart_AsWithADirectSpawn()
    {
        // The x bit, no #! and not ELF: the kernel refuses it (ENOEXEC), where the shim's sh would run it as a script.
        var path = Path.Combine(_dir.Path, "notes.txt");
        File.WriteAllText(path, "echo ran as a script\n");
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var (outcome, lines, _) = await RunAsync(new JobSpec { Kind = JobKind.Exec, Command = path });

        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal($"cannot start '{path}': Exec format error", outcome.Reason);
        Assert.DoesNotContain(lines, l => l.Text.Contains("ran as a script", StringComparison.Ordinal));
        Assert.True(JobShim.IsExecFormat("/bin/true"));
        Assert.True(JobShim.IsExecFormat("/usr/bin/ldd") || !File.Exists("/usr/bin/ldd")); // a #! script
    }

    public void Dispose() => _dir.Dispose();
}
