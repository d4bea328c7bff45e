using System.Text.Json.Serialization;

namespace Goq.Protocol;

/// <summary>The protocol's source-generated JSON context: every message (through <see cref="Envelope"/>) and the store's rows.</summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(Envelope))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(JobSpec))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(OutputIndex))]
[JsonSerializable(typeof(JobFinished))]
[JsonSerializable(typeof(Identity.GoqUser))]
public sealed partial class GoqJsonContext : JsonSerializerContext;
