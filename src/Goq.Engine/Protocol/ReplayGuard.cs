using System.Globalization;

namespace Goq.Protocol;

/// <summary>
/// Refuses a message a second time: every signed message carries its sender's clock and a random nonce; a message
/// older or further in the future than the window is refused, and so is a nonce already seen within the window.
/// Nonces are forgotten once their messages are older than the window (then the clock check refuses them anyway).
/// Not thread-safe: each socket's owner thread has its own.
/// </summary>
public sealed class ReplayGuard(TimeSpan window, int maxRemembered = ReplayGuard.DefaultMaxRemembered)
{
    /// <summary>
    /// Memory bound: about 60 MB of nonces. Past it the oldest are forgotten early, which narrows the window only for a
    /// peer sending more than this many messages per window; CURVE already refuses replays on the wire.
    /// </summary>
    public const int DefaultMaxRemembered = 1_000_000;

    private readonly HashSet<UInt128> _seen = [];
    private readonly Queue<(long SentAtMs, UInt128 Nonce)> _byAge = new();
    private readonly long _windowMs = (long)window.TotalMilliseconds;

    public TimeSpan Window => TimeSpan.FromMilliseconds(_windowMs);

    /// <summary>How many nonces are remembered now.</summary>
    public int Remembered => _seen.Count;

    /// <summary>True when a message stamped <paramref name="sentAtMs"/> is outside the window (a replay, or clocks apart).</summary>
    public bool IsOutsideWindow(long sentAtMs, long nowMs) => sentAtMs <= 0 || Math.Abs(nowMs - sentAtMs) > _windowMs;

    /// <summary>Null when the message is fresh (and remembers it); otherwise why it is refused.</summary>
    public string? Check(long sentAtMs, string nonce, long nowMs)
    {
        Forget(nowMs);
        if (IsOutsideWindow(sentAtMs, nowMs))
        {
            return $"its timestamp is {(sentAtMs > nowMs ? "ahead of" : "behind")} this clock by more than the {_windowMs / 1000} s replay window (are the clocks in sync?)";
        }

        if (!TryParse(nonce, out var key))
        {
            return "it has no valid nonce";
        }

        if (!_seen.Add(key))
        {
            return "its nonce was seen before: a replay";
        }

        _byAge.Enqueue((sentAtMs, key));
        while (_byAge.Count > maxRemembered)
        {
            _seen.Remove(_byAge.Dequeue().Nonce);
        }

        return null;
    }

    private void Forget(long nowMs)
    {
        // Arrival order is close to send order; an entry stuck behind a younger one just lives a little longer.
        while (_byAge.TryPeek(out var oldest) && nowMs - oldest.SentAtMs > _windowMs)
        {
            _byAge.Dequeue();
            _seen.Remove(oldest.Nonce);
        }
    }

    private static bool TryParse(string nonce, out UInt128 key) =>
        UInt128.TryParse(nonce, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out key) && nonce.Length is >= 16 and <= 32;
}
