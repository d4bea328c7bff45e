namespace Goq.Protocol;

/// <summary>
/// Relay → job keeper (never to the server): a relay now carries the keeper's messages; <paramref name="Pid"/> and
/// <paramref name="Start"/> (its start time, to tell a reused pid) name the process users see as the worker.
/// </summary>
public sealed record RelayHello(int Pid, long Start) : GoqMessage;
