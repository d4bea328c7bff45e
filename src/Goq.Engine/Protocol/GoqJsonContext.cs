using System.Text.Json.Serialization;
using Goq.Configuration;

namespace Goq.Protocol;

/// <summary>The one source-generated JSON context: every message (through <see cref="Envelope"/>), the config file and the store's rows.</summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(Envelope))]
[JsonSerializable(typeof(GoqConfig))]
[JsonSerializable(typeof(HomeArchiveManifest))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(JobSpec))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(OutputIndex))]
[JsonSerializable(typeof(Goq.Worker.KeeperInfo))]
[JsonSerializable(typeof(Goq.Worker.RunnerJob))]
[JsonSerializable(typeof(Goq.Worker.RunnerEnd))]
[JsonSerializable(typeof(JobFinished))]
public sealed partial class GoqJsonContext : JsonSerializerContext;
