using System.Reflection;

namespace Goq;

/// <summary>The engine's version, as every role reports it.</summary>
public static class GoqVersion
{
    public static string Current { get; } =
        typeof(GoqVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";
}
