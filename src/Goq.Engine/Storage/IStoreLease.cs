namespace Goq.Storage;

/// <summary>
/// The right to write the store, held by one server of several (see <see cref="Postgres.PostgresLease"/>). Read on the
/// serving server's loop thread; renewed on a thread of the lease's own.
/// </summary>
public interface IStoreLease
{
    /// <summary>
    /// Whether this server may still serve: the last renewal, as this host's monotonic clock measures it, is recent
    /// enough that the lease cannot have passed to another yet. False once, false for good.
    /// </summary>
    bool IsHeld { get; }

    /// <summary>The epoch this server serves under: one more at every take-over.</summary>
    long Epoch { get; }

    /// <summary>When this server took the lease (the database's clock).</summary>
    DateTimeOffset ActiveSince { get; }
}
