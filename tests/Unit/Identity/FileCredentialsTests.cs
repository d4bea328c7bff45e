using Goq.Platform;

namespace Goq.Tests.Identity;

/// <summary>
/// A thread acting as another account (<see cref="FileCredentials.As{T}"/>): what it reads and makes is checked with that
/// account's rights, also after a call within the call, and it is root's again after. Root on Linux only (elsewhere the
/// calls run as they are, and these return at once).
/// </summary>
public sealed class FileCredentialsTests : IDisposable
{
    private readonly string _secret = Path.Combine("/root", "goq-unit-" + Guid.NewGuid().ToString("N")[..8]);

    private static UserAccount? Nobody => FileCredentials.CanSwitch ? UserAccounts.Find("nobody") : null;

    public FileCredentialsTests()
    {
        if (Nobody is not null && OperatingSystem.IsLinux())
        {
            File.WriteAllText(_secret, "root's");
            File.SetUnixFileMode(_secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void Dispose() => File.Delete(_secret);

    private bool CanRead()
    {
        try
        {
            return File.ReadAllText(_secret) == "root's";
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    [Fact]
    public void AThreadActingAsAnAccount_ReadsWithItsRights_AndIsRootsAgainAfter()
    {
        if (Nobody is not { } nobody)
        {
            return;
        }

        Assert.False(FileCredentials.As(nobody, CanRead));
        Assert.True(CanRead());
    }

    [Fact]
    public void ACallWithinACall_AsTheSameAccount_LeavesTheThreadActingAsIt()
    {
        if (Nobody is not { } nobody)
        {
            return;
        }

        // Seen in the server: a trim of a file (made as the owner) within a read (made as the owner) gave the rest of the
        // read root's rights, and a link the owner put in place of their output file read a file of root's.
        var readAfterInner = FileCredentials.As(nobody, () =>
        {
            FileCredentials.As(nobody, () => 0);
            return CanRead();
        });
        Assert.False(readAfterInner);
        Assert.True(CanRead());
    }

    [Fact]
    public void ACallAsAnotherAccount_WithinOne_IsRefused()
    {
        if (Nobody is not { } nobody || UserAccounts.Find("daemon") is not { } daemon || daemon.Uid == 0)
        {
            return;
        }

        Assert.Throws<InvalidOperationException>(() => FileCredentials.As(nobody, () => FileCredentials.As(daemon, () => 0)));
        Assert.True(CanRead());
    }
}
