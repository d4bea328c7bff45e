namespace Goq.Protocol;

/// <summary>
/// Worker → server: lines the job wrote, in the order they were read. <paramref name="FromLine"/> numbers the first
/// of them within this attempt, so the server can drop lines it already has when a worker sends them again.
/// </summary>
public sealed record JobOutput(string WorkerId, long JobId, int Attempt,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(OutputLinesConverter))] IReadOnlyList<OutputLine> Lines, long FromLine = 0) : WorkerReport;
