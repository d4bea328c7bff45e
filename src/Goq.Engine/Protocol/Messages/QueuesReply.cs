namespace Goq.Protocol;

/// <summary>Server → client: queues, by name. (Few: a queue exists because jobs, workers or a limit name it.)</summary>
public sealed record QueuesReply(IReadOnlyList<QueueInfo> Queues) : GoqMessage;
