namespace Goq.Worker;

/// <summary>A running job process whose output is being read. Implemented with posix_spawn on Linux, Process elsewhere.</summary>
internal interface IJobProcess : IDisposable
{
    int Pid { get; }

    /// <summary>Completes with the exit code when the main process exits (128 + n for death by signal n).</summary>
    Task<int> Exited { get; }

    /// <summary>The signal that ended the main process, when the platform tells it apart from an exit code.</summary>
    int? Signal { get; }

    /// <summary>What the job's processes used, once it exited; null where the platform does not say.</summary>
    Protocol.JobUsage? Usage { get; }

    /// <summary>Completes once every line of both streams has been handed on (all writers closed the pipes).</summary>
    Task OutputDone { get; }

    /// <summary>Kills the job's process group and every descendant still running.</summary>
    void KillTree();

    /// <summary>
    /// Stops reading the job's output (what was read is kept, a last partial line included) and completes
    /// <see cref="OutputDone"/>: for pipes a process out of reach still holds open.
    /// </summary>
    void StopReading();
}
