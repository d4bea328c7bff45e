namespace Goq.Server;

/// <summary>
/// Checks a worker's announcement before the scheduler sees it: a worker that could never be one (no id, no slots,
/// absurd numbers) is dropped and counted, so a buggy or hostile peer cannot register a phantom that swallows jobs.
/// </summary>
public static class WorkerHelloValidator
{
    public const int MaxSlots = Protocol.WorkerHello.MaxSlots;
    public const int MaxIdLength = 64;
    public const int MaxHostLength = 255;
    public const int MaxRunning = 100_000;

    /// <summary>Null when the hello is acceptable, else what is wrong with it.</summary>
    public static string? Validate(Protocol.WorkerHello hello)
    {
        if (string.IsNullOrEmpty(hello.WorkerId) || hello.WorkerId.Length > MaxIdLength
            || !hello.WorkerId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return "a worker id must be 1 to 64 letters, digits, '-', '_' or '.'";
        }

        if (hello.Slots is < 1 or > MaxSlots)
        {
            return $"worker {hello.WorkerId} announced {hello.Slots} slots; 1 to {MaxSlots} are allowed";
        }

        if (hello.Prefetch is < 0 or > MaxSlots)
        {
            return $"worker {hello.WorkerId} announced {hello.Prefetch} jobs ahead; 0 to {MaxSlots} are allowed";
        }

        if (hello.Host is null || hello.Host.Length > MaxHostLength || hello.Host.Any(char.IsControl))
        {
            return $"worker {hello.WorkerId} announced an invalid host name";
        }

        if (hello.Running is null || hello.Running.Count > MaxRunning || hello.Running.Any(r => r is null))
        {
            return $"worker {hello.WorkerId} announced an invalid list of running jobs";
        }

        if (hello.Queues is { } queues && NameRules.Problem(queues, "queue") is { } badQueue)
        {
            return $"worker {hello.WorkerId} {badQueue}";
        }

        if (hello.Labels is { } labels && NameRules.Problem(labels, "label") is { } badLabel)
        {
            return $"worker {hello.WorkerId} {badLabel}";
        }

        return null;
    }
}
