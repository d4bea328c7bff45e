using System.Text.Json.Serialization;

namespace Goq.Configuration;

/// <summary>
/// The JSON of a Goq home's files: its config and an exported home's manifest. Apart from the protocol's context, so
/// the configuration needs nothing from the protocol (the options are the same).
/// </summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(GoqConfig))]
[JsonSerializable(typeof(HomeArchiveManifest))]
public sealed partial class ConfigJsonContext : JsonSerializerContext;
