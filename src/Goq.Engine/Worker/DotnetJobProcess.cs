using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Goq.Worker;

/// <summary>
/// A job started with <see cref="Process"/>, for platforms without the posix_spawn launcher (Windows, macOS), or
/// when jobs must not get a process group of their own. stdout and stderr are read by two readers, so when a job
/// writes to both within microseconds the order between them is not guaranteed (see <see cref="JobIoLoop"/>).
/// </summary>
internal sealed class DotnetJobProcess : IJobProcess
{
    private readonly Process _process;
    private readonly TaskCompletionSource _outputDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DotnetJobProcess(Process process)
    {
        _process = process;
        Pid = process.Id;
        Exited = WaitAsync();
    }

    public int Pid { get; }

    public Task<int> Exited { get; }

    public int? Signal => null;

    public Protocol.JobUsage? Usage => null;

    public Task OutputDone => _outputDone.Task;

    public static DotnetJobProcess Start(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string?>> environment,
        string workingDirectory, Action<OutputLine> emit)
    {
        var psi = new ProcessStartInfo
        {
            FileName = argv[0],
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory,
        };
        psi.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        foreach (var arg in argv.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
        {
            process.Dispose();
            throw new JobStartException($"cannot start '{argv[0]}': {ex.Message}");
        }

        process.StandardInput.Close();
        var job = new DotnetJobProcess(process);
        job.StartReaders(emit);
        return job;
    }

    /// <summary>The readers are left to end on their own (.NET's streams cannot be abandoned mid-read); the job is done.</summary>
    public void StopReading() => _outputDone.TrySetResult();

    public void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    public void Dispose() => _process.Dispose();

    private async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        return _process.ExitCode;
    }

    private void StartReaders(Action<OutputLine> emit)
    {
        Task.WhenAll(
                LineReader.PumpAsync(_process.StandardOutput, Output.LineCuts.MaxBytes, t => emit(new OutputLine(OutputStream.Stdout, t))),
                LineReader.PumpAsync(_process.StandardError, Output.LineCuts.MaxBytes, t => emit(new OutputLine(OutputStream.Stderr, t))))
            .ContinueWith(t => _outputDone.TrySetResult(), TaskScheduler.Default);
    }
}
