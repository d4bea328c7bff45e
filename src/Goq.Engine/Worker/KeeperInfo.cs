namespace Goq.Worker;

/// <summary>What a job keeper publishes in <c>.goq/run/&lt;host&gt;.&lt;worker&gt;.keeper</c> (0600) for relays to find it.</summary>
public sealed record KeeperInfo(string WorkerId, int Pid, long Start, string Endpoint, string PublicKey, int Slots);
