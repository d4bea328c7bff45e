namespace Goq.Client;

/// <summary>A watched job ended (<see cref="Job"/> set), or the server does not know <see cref="Id"/> (Job null).</summary>
public readonly record struct WaitEvent(long Id, JobInfo? Job);
