using System.Net.Sockets;
using Goq.Errors;
using Npgsql;

namespace Goq.Storage.Postgres;

/// <summary>
/// A Goq store's PostgreSQL database: a pool of connections to it, with Goq's tables in a schema of their own
/// (<c>goq</c>), created or checked once when it opens. Several servers share one; the lease
/// (<see cref="PostgresLease"/>) says which of them writes. Thread-safe: each user takes a connection of its own.
/// </summary>
public sealed class PostgresDatabase : IDisposable
{
    public const int SchemaVersion = 1;

    /// <summary>The schema Goq's tables live in, so a database shared with other programs keeps them apart.</summary>
    public const string Schema = "goq";

    // One transaction-scoped advisory lock serializes schema creation between servers starting together; it is never
    // held across transactions (a session advisory lock is no lease: it goes silently with its connection).
    private const long SchemaLockKey = 0x476f71_5363686d; // "GoqSchm"

    private PostgresDatabase(NpgsqlDataSource source, string description)
    {
        Source = source;
        Description = description;
    }

    public NpgsqlDataSource Source { get; }

    /// <summary>Where the database is, for messages: host(s), port and database, never the password.</summary>
    public string Description { get; }

    /// <summary>
    /// Connects, and creates Goq's schema or checks its version. <paramref name="password"/> wins over the connection
    /// string's (none is kept in config.json); without either, Npgsql reads PGPASSFILE or ~/.pgpass as libpq does.
    /// </summary>
    /// <exception cref="GoqException">
    /// <see cref="GoqErrorIds.StoreUnavailable"/> when the database cannot be reached or refuses us (naming which),
    /// <see cref="GoqErrorIds.StoreUnusable"/> for a schema this Goq does not read.
    /// </exception>
    /// <param name="lease">The lease the servers hold (see <see cref="PostgresLease"/>): a transaction left open by a
    /// server that was paused or cut off mid-commit is ended by the database within half of it, and a wait for a lock
    /// within a quarter, so a take-over is never held up for longer (TCP keepalives find a dead client sooner too).</param>
    public static PostgresDatabase Open(string connectionString, string? password = null, TimeSpan? lease = null)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new GoqException(GoqErrorIds.InvalidConfig, GoqErrorKind.InvalidArgument,
                $"the store's connection string cannot be read ({ex.Message}); give one like 'Host=db1;Database=goq;Username=goq'", ex);
        }

        if (password is not null)
        {
            builder.Password = password;
        }

        builder.SearchPath = Schema;
        builder.ApplicationName ??= "goq";
        builder.Timeout = builder.Timeout is 15 ? 5 : builder.Timeout; // a down database is told in seconds, not the default 15
        if (!connectionString.Contains("recheck", StringComparison.OrdinalIgnoreCase))
        {
            // With several hosts, a standby promoted after the primary died is looked at again within 2 s rather than
            // Npgsql's 10, which is longer than a server counts on its lease: every fail-over would cost a step-down.
            builder.HostRecheckSeconds = 2;
        }
        var within = lease ?? TimeSpan.FromSeconds(Configuration.GoqDefaults.LeaseSec);
        builder.Options = $"{builder.Options} -c idle_in_transaction_session_timeout={(long)(within.TotalMilliseconds / 2)} -c lock_timeout={(long)(within.TotalMilliseconds / 4)}".Trim();
        builder.KeepAlive = builder.KeepAlive is 0 ? 5 : builder.KeepAlive;
        var hosts = builder.Host ?? "localhost";
        var description = $"PostgreSQL at {(hosts.Contains(',') ? hosts : $"{hosts}:{builder.Port}")}/{builder.Database ?? builder.Username}";
        var source = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        var database = new PostgresDatabase(source, description);
        try
        {
            database.CreateOrCheckSchema();
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A connection from the pool. A database that cannot be reached or refuses us fails with
    /// <see cref="GoqErrorIds.StoreUnavailable"/>, naming which.
    /// </summary>
    public NpgsqlConnection Connect()
    {
        try
        {
            return Source.OpenConnection();
        }
        catch (Exception ex) when (Unavailable(ex, Description) is { } error)
        {
            throw error;
        }
    }

    /// <summary>What a failure to reach or use the database means, as a Goq error; null for any other exception.</summary>
    public static GoqException? Unavailable(Exception ex, string description) => ex switch
    {
        PostgresException { SqlState: "28P01" or "28000" } auth => new GoqException(GoqErrorIds.StoreUnavailable, GoqErrorKind.Security,
            $"{description} refused Goq's login ({auth.MessageText}); put the right password in .goq/store.password (mode 0600) or a PGPASSFILE", ex),
        PostgresException { SqlState: "3D000" } missing => new GoqException(GoqErrorIds.StoreUnavailable, GoqErrorKind.ResourceUnavailable,
            $"{description}: {missing.MessageText}; create the database first (createdb), or name another in the connection string", ex),
        // Not an error of the database's own (a PostgresException) but of reaching it: refused, timed out, or, with several
        // hosts listed, none of them the primary now ("No suitable host was found", not marked transient): a fail-over.
        NpgsqlException and not PostgresException or TimeoutException =>
            new GoqException(GoqErrorIds.StoreUnavailable, GoqErrorKind.Connection,
                $"{description} cannot be reached ({(ex.InnerException ?? ex).Message}); check that PostgreSQL runs and that the connection string names it", ex),
        _ => null,
    };

    public void Dispose() => Source.Dispose();

    private void CreateOrCheckSchema()
    {
        using var connection = Connect();
        using var tx = connection.BeginTransaction();
        Execute(connection, tx, $"SELECT pg_advisory_xact_lock({SchemaLockKey})");
        Execute(connection, tx, $"""
            CREATE SCHEMA IF NOT EXISTS {Schema};
            CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE IF NOT EXISTS jobs (id bigint PRIMARY KEY, state text NOT NULL, info text NOT NULL, spec text NOT NULL, env text, output text,
                epoch bigint NOT NULL DEFAULT 0);
            CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
            CREATE TABLE IF NOT EXISTS environments (key text PRIMARY KEY, json text NOT NULL);
            CREATE TABLE IF NOT EXISTS batches (id text PRIMARY KEY, first_job bigint NOT NULL, count integer NOT NULL, at bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS arrays (id bigint PRIMARY KEY, state text NOT NULL, info text NOT NULL, spec text NOT NULL, env text);
            CREATE TABLE IF NOT EXISTS lease (id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL, holder text, endpoint text,
                acquired_at timestamptz, expires_at timestamptz NOT NULL);
            INSERT INTO lease (id, epoch, expires_at) VALUES (1, 0, '-infinity') ON CONFLICT (id) DO NOTHING;
            CREATE TABLE IF NOT EXISTS epochs (epoch bigint PRIMARY KEY, holder text NOT NULL, endpoint text, started_at timestamptz NOT NULL,
                commits bigint NOT NULL DEFAULT 0, last_commit_at timestamptz);
            CREATE TABLE IF NOT EXISTS servers (endpoint text PRIMARY KEY, holder text NOT NULL, role text NOT NULL, epoch bigint, seen_at timestamptz NOT NULL);
            INSERT INTO meta (key, value) VALUES ('schema_version', '{SchemaVersion}') ON CONFLICT (key) DO NOTHING;
            """);
        using var cmd = new NpgsqlCommand("SELECT value FROM meta WHERE key = 'schema_version'", connection, tx);
        var version = int.TryParse(cmd.ExecuteScalar() as string, out var v) ? v : -1;
        if (version != SchemaVersion)
        {
            throw new GoqException(GoqErrorIds.StoreUnusable, GoqErrorKind.InvalidData,
                $"the job database ({Description}, schema {Schema}) has schema version {version}; this Goq ({GoqVersion.Current}) reads version {SchemaVersion}. " +
                "Use the Goq version that wrote it, or name another database in the connection string") { Target = Description };
        }

        tx.Commit();
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection, tx);
        cmd.ExecuteNonQuery();
    }
}
