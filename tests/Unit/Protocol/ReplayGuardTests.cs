using Goq.Protocol;

namespace Goq.Tests.Protocol;

public sealed class ReplayGuardTests
{
    private const long Now = 1_800_000_000_000;
    private readonly ReplayGuard _guard = new(TimeSpan.FromSeconds(60));

    [Fact]
    public void FreshMessage_IsAccepted_Once()
    {
        Assert.Null(_guard.Check(Now - 5, "00112233445566778899aabb", Now));
        Assert.Contains("replay", _guard.Check(Now - 5, "00112233445566778899aabb", Now + 10));
        Assert.Null(_guard.Check(Now - 5, "00112233445566778899aabc", Now + 10));
    }

    [Theory]
    [InlineData(-61_000)]
    [InlineData(61_000)]
    [InlineData(-Now)]
    [InlineData(long.MinValue / 2)]
    public void TimestampOutsideTheWindow_IsRefused(long offsetMs)
    {
        Assert.NotNull(_guard.Check(Now + offsetMs, "00112233445566778899aabb", Now));
        Assert.Equal(0, _guard.Remembered);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("not hex at all, and long")]
    [InlineData("00112233445566778899aabbccddeeff00")]
    public void NonceThatIsNotHex_IsRefused(string nonce) => Assert.NotNull(_guard.Check(Now, nonce, Now));

    [Fact]
    public void Nonces_AreForgotten_OnceTheirMessagesLeaveTheWindow()
    {
        for (var i = 0; i < 1000; i++)
        {
            Assert.Null(_guard.Check(Now + i, $"{i:x24}", Now + i));
        }

        Assert.Equal(1000, _guard.Remembered);
        Assert.Null(_guard.Check(Now + 200_000, $"{5000:x24}", Now + 200_000));
        Assert.Equal(1, _guard.Remembered);
    }

    [Fact]
    public void Memory_IsBounded_ByForgettingTheOldestFirst()
    {
        var guard = new ReplayGuard(TimeSpan.FromSeconds(60), maxRemembered: 100);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Null(guard.Check(Now, $"{i:x24}", Now));
        }

        Assert.Equal(100, guard.Remembered);
        Assert.NotNull(guard.Check(Now, $"{999:x24}", Now)); // the newest are still refused
    }
}
