using System.Data.Common;

namespace Goq.Configuration;

/// <summary>What Initialize-GoqHome sets for a cluster of several servers on a shared store; a null part is left as it was.</summary>
public sealed record ClusterOptions
{
    /// <summary>The servers, "host:port" each.</summary>
    public IReadOnlyList<string>? Servers { get; init; }

    /// <summary>A PostgreSQL connection string; a password in it is moved to .goq/store.password.</summary>
    public string? StoreConnectionString { get; init; }

    public int? LeaseSec { get; init; }

    public string? FallbackOutputDir { get; init; }
}

/// <summary>A store's connection string as the config keeps it: without its password.</summary>
public static class StoreConnection
{
    // Every name Npgsql reads a password under (Password, its synonyms PSW and PWD), in any case.
    private static readonly string[] PasswordKeys = ["Password", "Pwd", "Psw"];

    /// <summary>The connection string without any password in it, and that password (null when it had none).</summary>
    public static (string Connection, string? Password) WithoutPassword(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? password = null;
        foreach (var key in builder.Keys.Cast<string>().ToList())
        {
            if (PasswordKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                password = builder[key]?.ToString();
                builder.Remove(key);
            }
        }

        return (builder.ConnectionString, password);
    }
}
