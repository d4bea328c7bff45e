using System.Diagnostics;
using Goq.Diagnostics;
using Npgsql;

namespace Goq.Storage.Postgres;

/// <summary>
/// Which of several servers on one PostgreSQL store serves: an expiring lease row (as River and Oban elect their
/// leader), never a session advisory lock, which PostgreSQL releases silently with a dropped connection while its old
/// holder goes on. A server takes the lease only once it has expired, by the database's clock, and takes it with a new
/// epoch; every commit of the store checks that epoch in its own transaction (<see cref="PostgresJobStore"/>).
/// The holder renews it every <see cref="RenewEvery"/>; it counts itself the holder only until
/// <see cref="SafeFraction"/> of the lease has passed since the start of its last renewal that succeeded, by this
/// host's monotonic clock, so it stops serving before the database lets another take over, however its wall clock runs.
/// Thread-safe: renewed on its own thread, read on the server's.
/// </summary>
public sealed class PostgresLease : IStoreLease
{
    /// <summary>The part of the lease a holder counts on: the rest covers a renewal's round trip and clock-rate drift.</summary>
    public const double SafeFraction = 0.8;

    private readonly PostgresDatabase _db;
    private readonly Action<LogEntry> _log;
    private long _heldUntil; // Stopwatch ticks; 0: not held
    private long _epoch;
    private DateTimeOffset _activeSince;

    public PostgresLease(PostgresDatabase db, string holder, string endpoint, TimeSpan duration, Action<LogEntry>? log = null)
    {
        _db = db;
        Holder = holder;
        Endpoint = endpoint;
        Duration = duration;
        _log = log ?? (_ => { });
    }

    /// <summary>This server, as the lease names it: host, pid and a random part (a restarted server is another holder).</summary>
    public string Holder { get; }

    /// <summary>Where this server serves, as clients reach it.</summary>
    public string Endpoint { get; }

    public TimeSpan Duration { get; }

    /// <summary>How often the holder renews: five times a lease.</summary>
    public TimeSpan RenewEvery => Duration / 5;

    public bool IsHeld => Volatile.Read(ref _heldUntil) is var until and > 0 && Stopwatch.GetTimestamp() < until;

    public long Epoch => Interlocked.Read(ref _epoch);

    public DateTimeOffset ActiveSince => _activeSince;

    /// <summary>
    /// Takes the lease if it has expired (or was never taken), with the next epoch, and records the epoch; returns
    /// whether this server holds it now. The database's clock decides, so servers' clocks need not agree.
    /// </summary>
    public bool TryAcquire()
    {
        var started = Stopwatch.GetTimestamp();
        using var connection = _db.Connect();
        using var tx = connection.BeginTransaction();
        using var take = new NpgsqlCommand(
            "UPDATE lease SET epoch = epoch + 1, holder = @h, endpoint = @p, acquired_at = clock_timestamp(), expires_at = clock_timestamp() + @d " +
            "WHERE id = 1 AND expires_at < clock_timestamp() RETURNING epoch, acquired_at", connection, tx);
        take.Parameters.AddWithValue("h", Holder);
        take.Parameters.AddWithValue("p", Endpoint);
        take.Parameters.AddWithValue("d", Duration);
        long epoch;
        DateTime acquired;
        using (var reader = take.ExecuteReader())
        {
            if (!reader.Read())
            {
                return false;
            }

            epoch = reader.GetInt64(0);
            acquired = reader.GetDateTime(1);
        }

        using (var record = new NpgsqlCommand("INSERT INTO epochs (epoch, holder, endpoint, started_at) VALUES (@e, @h, @p, @a)", connection, tx))
        {
            record.Parameters.AddWithValue("e", epoch);
            record.Parameters.AddWithValue("h", Holder);
            record.Parameters.AddWithValue("p", Endpoint);
            record.Parameters.AddWithValue("a", acquired);
            record.ExecuteNonQuery();
        }

        tx.Commit();
        Interlocked.Exchange(ref _epoch, epoch);
        _activeSince = new DateTimeOffset(DateTime.SpecifyKind(acquired, DateTimeKind.Utc));
        Volatile.Write(ref _heldUntil, started + SafeTicks());
        _log(LogEntry.Info("lease.acquired", $"this server took the store's lease with epoch {epoch}"));
        return true;
    }

    /// <summary>
    /// Extends the lease by a whole <see cref="Duration"/> from now; false when it is no longer this server's (another
    /// took it over: its epoch is gone). A database that cannot be reached throws; the lease then runs out on its own.
    /// </summary>
    public bool Renew()
    {
        var started = Stopwatch.GetTimestamp();
        var epoch = Epoch; // the epoch this renewal is for, whatever happens meanwhile
        var held = Volatile.Read(ref _heldUntil);
        using var connection = _db.Connect();
        // Only a lease that has not run out is extended: once expired it may already be another's to take.
        using var renew = new NpgsqlCommand(
            "UPDATE lease SET expires_at = clock_timestamp() + @d WHERE id = 1 AND epoch = @e AND holder = @h AND expires_at > clock_timestamp()", connection);
        renew.Parameters.AddWithValue("d", Duration);
        renew.Parameters.AddWithValue("e", epoch);
        renew.Parameters.AddWithValue("h", Holder);
        if (renew.ExecuteNonQuery() == 1)
        {
            // Counted from before the round trip: the database's expiry is later than this, never earlier. Only the
            // holding this renewal began under is extended (not one lost, or taken again with another epoch, meanwhile).
            if (held > 0 && Stopwatch.GetTimestamp() < held)
            {
                Interlocked.CompareExchange(ref _heldUntil, started + SafeTicks(), held);
            }

            return IsHeld;
        }

        if (Interlocked.CompareExchange(ref _heldUntil, 0, held) == held && held != 0 && Epoch == epoch)
        {
            _log(LogEntry.Warning("lease.lost", $"this server no longer holds the store's lease: it ran out, or another server took it over from epoch {epoch}"));
        }

        return false;
    }

    /// <summary>Gives the lease up (a clean stop), so a standby takes over at its next look instead of after the lease.</summary>
    public void Release()
    {
        if (Volatile.Read(ref _heldUntil) == 0)
        {
            return;
        }

        Volatile.Write(ref _heldUntil, 0);
        try
        {
            using var connection = _db.Connect();
            using var release = new NpgsqlCommand("UPDATE lease SET expires_at = '-infinity' WHERE id = 1 AND epoch = @e AND holder = @h", connection);
            release.Parameters.AddWithValue("e", Epoch);
            release.Parameters.AddWithValue("h", Holder);
            release.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is NpgsqlException or Errors.GoqException or TimeoutException)
        {
            _log(LogEntry.Warning("lease.release_failed", $"could not give the lease up ({ex.Message}); a standby takes over when it runs out"));
        }
    }

    /// <summary>No longer the holder, for good: the server steps down at its next turn.</summary>
    public void Lose(string reason)
    {
        if (Interlocked.Exchange(ref _heldUntil, 0) != 0)
        {
            _log(LogEntry.Warning("lease.lost", $"this server no longer holds the store's lease: {reason}"));
        }
    }

    /// <summary>The server that holds the lease now, as the database says, or null when none does.</summary>
    public LeaseHolder? Current()
    {
        using var connection = _db.Connect();
        using var cmd = new NpgsqlCommand("SELECT epoch, holder, endpoint, acquired_at, expires_at > clock_timestamp() FROM lease WHERE id = 1", connection);
        using var reader = cmd.ExecuteReader();
        return reader.Read() && !reader.IsDBNull(1) && reader.GetBoolean(4)
            ? new LeaseHolder(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc)))
            : null;
    }

    /// <summary>Records this server, its role and when it was last seen, for Get-GoqServer -All.</summary>
    public void Announce(string role)
    {
        using var connection = _db.Connect();
        using var cmd = new NpgsqlCommand(
            "INSERT INTO servers (endpoint, holder, role, epoch, seen_at) VALUES (@p, @h, @r, @e, clock_timestamp()) " +
            "ON CONFLICT (endpoint) DO UPDATE SET holder = excluded.holder, role = excluded.role, epoch = excluded.epoch, seen_at = excluded.seen_at", connection);
        cmd.Parameters.AddWithValue("p", Endpoint);
        cmd.Parameters.AddWithValue("h", Holder);
        cmd.Parameters.AddWithValue("r", role);
        cmd.Parameters.AddWithValue("e", role == "Active" ? Epoch : DBNull.Value);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Every server that has announced itself, with its role and how long ago it was last seen (the database's clock).</summary>
    public IReadOnlyList<AnnouncedServer> Announced()
    {
        using var connection = _db.Connect();
        using var cmd = new NpgsqlCommand("SELECT endpoint, holder, role, epoch, EXTRACT(EPOCH FROM clock_timestamp() - seen_at)::float8 FROM servers ORDER BY endpoint", connection);
        using var reader = cmd.ExecuteReader();
        var servers = new List<AnnouncedServer>();
        while (reader.Read())
        {
            servers.Add(new AnnouncedServer(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                TimeSpan.FromSeconds(reader.GetDouble(4))));
        }

        return servers;
    }

    private long SafeTicks() => (long)(Duration.TotalSeconds * SafeFraction * Stopwatch.Frequency);
}

/// <summary>The lease's holder: its epoch, who it is, where it serves and since when.</summary>
public sealed record LeaseHolder(long Epoch, string Holder, string? Endpoint, DateTimeOffset Since);

/// <summary>A server as it last announced itself (see <see cref="PostgresLease.Announce"/>).</summary>
public sealed record AnnouncedServer(string Endpoint, string Holder, string Role, long? Epoch, TimeSpan SeenAgo);
