using Npgsql;

namespace Goq.Tests.Support;

/// <summary>
/// A database of the test's own on the throw-away PostgreSQL server the test run started (build.ps1 -Task Test sets
/// GOQ_TEST_POSTGRES to its connection string, password included, or GOQ_TEST_POSTGRES_SKIP to why there is none):
/// created empty, dropped on dispose. A test that needs one calls <see cref="Create"/>, which skips it with the reason
/// when no server can be had.
/// </summary>
internal sealed class TestDatabase : IDisposable
{
    private readonly string _server;

    private TestDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>The connection string of this database, password included.</summary>
    public string ConnectionString { get; }

    public string Name { get; }

    /// <summary>The server's connection string, or null with the reason there is none.</summary>
    public static (string? Server, string Reason) Server =>
        Environment.GetEnvironmentVariable("GOQ_TEST_POSTGRES") is { Length: > 0 } server
            ? (server, "")
            : (null, Environment.GetEnvironmentVariable("GOQ_TEST_POSTGRES_SKIP") is { Length: > 0 } why
                ? $"no PostgreSQL for the tests: {why}"
                : "no PostgreSQL for the tests: GOQ_TEST_POSTGRES is not set (build.ps1 -Task Test starts one)");

    public static TestDatabase Create()
    {
        var (server, reason) = Server;
        Skip.If(server is null, reason);
        var name = "goq_test_" + Guid.NewGuid().ToString("N")[..12];
        Execute(server!, $"CREATE DATABASE {name}");
        return new TestDatabase(server!, name);
    }

    /// <summary>Runs SQL in this database (Goq's tables are in schema goq).</summary>
    public object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var cmd = new NpgsqlCommand(sql, connection);
        return cmd.ExecuteScalar();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            Execute(_server, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        }
        catch (NpgsqlException)
        {
            // the server went away: its folder goes with it
        }
    }

    private static void Execute(string server, string sql)
    {
        using var connection = new NpgsqlConnection(server);
        connection.Open();
        using var cmd = new NpgsqlCommand(sql, connection);
        cmd.ExecuteNonQuery();
    }
}
