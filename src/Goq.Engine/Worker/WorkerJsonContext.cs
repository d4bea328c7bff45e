using System.Text.Json.Serialization;

namespace Goq.Worker;

/// <summary>
/// The JSON of what a worker keeps and says among its own processes: the keeper's file, and the frames to and from a
/// PowerShell runner. Apart from the protocol's context, which does not know the worker (the options are the same).
/// </summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(KeeperInfo))]
[JsonSerializable(typeof(RunnerJob))]
[JsonSerializable(typeof(RunnerEnd))]
internal sealed partial class WorkerJsonContext : JsonSerializerContext;
