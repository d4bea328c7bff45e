namespace Goq.Worker;

/// <summary>
/// Worker → script runner: run one script-block job. The environment is the job's whole environment (the runner's
/// own is replaced by it for the job's time); <see cref="ScriptData"/> is the submitter's CliXml, passed on unread.
/// </summary>
public sealed record RunnerJob(long JobId, int Attempt, string Script, string? ScriptData, int SerializationDepth,
    string WorkingDirectory, IReadOnlyDictionary<string, string> Environment, long MaxRecordBytes);
