namespace Goq.Storage;

/// <summary>
/// A commit refused because this server's epoch is no longer the store's (another server took the lease over): nothing
/// of it was stored, and this server must stop serving at once (step down) and never commit again under that epoch.
/// </summary>
public sealed class StoreFencedException(long epoch, string message) : Exception(message)
{
    /// <summary>The epoch this server held, now gone.</summary>
    public long Epoch { get; } = epoch;
}
