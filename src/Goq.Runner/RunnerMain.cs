using System.Net.Sockets;
using System.Runtime.InteropServices;
using Goq.Worker;

namespace Goq.Runner;

/// <summary>
/// The runner's entry point, called in a pwsh the worker started (<c>[Goq.Runner.RunnerMain]::Run()</c>). It reads
/// jobs from descriptor 3, a socket pair whose other end the worker holds, runs each in a fresh runspace and sends
/// back its lines and its end. When the worker goes away (end of the channel) the runner exits and ends its process
/// group, so nothing a job started outlives it.
/// </summary>
public static class RunnerMain
{
    private const int ChannelFd = 3;
    private const int FSetFd = 2;
    private const int FdCloexec = 1;

    public static int Run()
    {
        // Checkpoint: the channel is not inherited by what jobs start, so only the worker and this process hold it.
        _ = fcntl(ChannelFd, FSetFd, FdCloexec);
        using var channel = new NetworkStream(new Socket(new SafeSocketHandle(ChannelFd, ownsHandle: true)), ownsSocket: true);
        var gate = new object();
        void Send(byte[] frame)
        {
            lock (gate)
            {
                channel.Write(frame);
            }
        }

        var runspaces = new RunspaceSource();
        runspaces.Prepare();
        Send(RunnerWire.Encode(RunnerFrame.Ready, []));
        try
        {
            while (RunnerWire.Read(channel) is { } frame)
            {
                if (frame.Kind == RunnerFrame.Quit)
                {
                    return 0;
                }

                if (frame.Kind != RunnerFrame.Job)
                {
                    continue;
                }

                var job = RunnerWire.ReadJob(frame.Payload);
                JobExecution.Run(job, runspaces, (stream, text) => Send(RunnerWire.Line(stream, text)), end => Send(RunnerWire.End(end)));
                runspaces.Prepare();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The worker is gone.
        }

        _ = kill(-getpgrp(), 9); // the worker is gone: end whatever the last job left behind, and this process
        return 0;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);

    [DllImport("libc")]
    private static extern int getpgrp();

    [DllImport("libc")]
    private static extern int kill(int pid, int sig);
}
