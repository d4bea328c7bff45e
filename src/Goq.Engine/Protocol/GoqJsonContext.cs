using System.Text.Json.Serialization;
using Goq.Configuration;

namespace Goq.Protocol;

/// <summary>The one source-generated JSON context: every message (through <see cref="Envelope"/>) and the config file.</summary>
[JsonSourceGenerationOptions(
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(Envelope))]
[JsonSerializable(typeof(GoqConfig))]
public sealed partial class GoqJsonContext : JsonSerializerContext;
