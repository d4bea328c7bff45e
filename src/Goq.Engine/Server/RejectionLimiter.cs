namespace Goq.Server;

/// <summary>A token bucket: at most <c>perSecond</c> rejections are answered each second, the rest only counted.</summary>
internal sealed class RejectionLimiter(int perSecond)
{
    private double _tokens = perSecond;
    private long _lastMs = Environment.TickCount64;

    public bool TryTake(long nowMs)
    {
        _tokens = Math.Min(perSecond, _tokens + ((nowMs - _lastMs) * perSecond / 1000.0));
        _lastMs = nowMs;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }
}
