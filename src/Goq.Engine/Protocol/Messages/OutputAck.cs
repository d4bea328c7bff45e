namespace Goq.Protocol;

/// <summary>
/// Server → worker: the first <paramref name="Lines"/> lines of this attempt's output are written and recorded;
/// the worker may forget them. Lines not acknowledged are sent again with the next heartbeat.
/// </summary>
public sealed record OutputAck(long JobId, int Attempt, long Lines) : GoqMessage;
