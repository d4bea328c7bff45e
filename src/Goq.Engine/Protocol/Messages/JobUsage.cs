namespace Goq.Protocol;

/// <summary>
/// What a job's processes used, from the child's rusage (wait4): CPU time in user mode and in the kernel, and the
/// peak resident memory of its largest process. Part of <see cref="JobFinished"/>.
/// </summary>
public sealed record JobUsage(long UserCpuMicros, long SystemCpuMicros, long? MaxRssBytes);
