namespace Goq.Protocol;

/// <summary>
/// Worker → server: the worker wrote this attempt's output to the job's file itself (see <see cref="OutputTarget"/>)
/// and synced it: lines <paramref name="FromLine"/> on, as many as <paramref name="StderrRuns"/> counts (alternating
/// run lengths starting with stdout, as <see cref="OutputIndex"/> keeps them), are on disk, the last ending at byte
/// <paramref name="End"/> of the file; <paramref name="Breaks"/> are the offsets among them where a line ended without a
/// newline (see <see cref="Output.LineCuts"/>). The server records that as it would its own write and answers with an
/// <see cref="OutputAck"/>; until then the worker sends it again with each heartbeat.
/// </summary>
public sealed record JobOutputWritten(string WorkerId, long JobId, int Attempt, long FromLine, IReadOnlyList<long> StderrRuns, long End, IReadOnlyList<long>? Breaks = null) : WorkerReport;
