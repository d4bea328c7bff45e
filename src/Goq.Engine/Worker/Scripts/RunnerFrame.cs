namespace Goq.Worker;

/// <summary>What a frame on a script runner's channel carries; the byte that follows its length.</summary>
public enum RunnerFrame : byte
{
    /// <summary>Runner → worker, once: ready for jobs. No payload.</summary>
    Ready = (byte)'R',

    /// <summary>Worker → runner: a <see cref="RunnerJob"/> (JSON).</summary>
    Job = (byte)'J',

    /// <summary>Runner → worker: one line of the job: a byte for its <see cref="OutputStream"/>, then UTF-8 text.</summary>
    Line = (byte)'L',

    /// <summary>Runner → worker: the job ended, a <see cref="RunnerEnd"/> (JSON).</summary>
    End = (byte)'E',

    /// <summary>Worker → runner: finish and exit. No payload.</summary>
    Quit = (byte)'Q',
}
