using System.Security.Cryptography;
using Goq.Errors;
using Goq.Identity;

namespace Goq.Tests.Identity;

public sealed class UserKeyTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] IdA = [1, 2, 3, 4, 5, 6, 7, 8];
    private static readonly byte[] IdB = [1, 2, 3, 4, 5, 6, 7, 9];

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    [Fact]
    public void FileText_IsOneTaggedLine_AndParsesBackToTheSameKey()
    {
        var key = UserKey.Derive(Secret, "alice", IdA);
        var text = key.ToFileText();

        Assert.Equal($"goq-user-key-1 alice 0102030405060708 {Hex(key.Key)}\n", text);
        var back = UserKey.Parse(text);
        Assert.NotNull(back);
        Assert.Equal("alice", back.User);
        Assert.Equal(IdA, back.KeyId);
        Assert.Equal(key.Key, back.Key);
        Assert.Equal("0102030405060708", back.KeyIdText);
    }

    [Fact]
    public void Parse_TakesSurroundingWhitespace_AndUpperCaseHex()
    {
        var key = UserKey.Derive(Secret, "a.b_c-d", IdB);
        var back = UserKey.Parse($"  \r\ngoq-user-key-1 a.b_c-d {Convert.ToHexString(IdB)} {Convert.ToHexString(key.Key)}\r\n");
        Assert.NotNull(back);
        Assert.Equal("a.b_c-d", back.User);
        Assert.Equal(IdB, back.KeyId);
        Assert.Equal(key.Key, back.Key);
    }

    public static TheoryData<string> NotKeyFiles()
    {
        var id = "0102030405060708";
        var key = new string('a', 64);
        return new TheoryData<string>
        {
            "",
            "   ",
            $"goq-user-key-2 alice {id} {key}",             // another tag
            $"GOQ-USER-KEY-1 alice {id} {key}",             // the tag is exact
            $"goq-user-key alice {id} {key}",
            $"goq-user-key-1 -alice {id} {key}",            // a name that is not one
            $"goq-user-key-1 a/b {id} {key}",
            $"goq-user-key-1 {new string('a', 33)} {id} {key}",
            $"goq-user-key-1 alice 01020304050607 {key}",   // a 7-byte id
            $"goq-user-key-1 alice 010203040506070809 {key}", // a 9-byte id
            $"goq-user-key-1 alice {id} {new string('a', 62)}", // a 31-byte key
            $"goq-user-key-1 alice {id} {new string('a', 66)}", // a 33-byte key
            $"goq-user-key-1 alice {id} {new string('a', 63)}", // odd length
            $"goq-user-key-1 alice 01020304050607zz {key}",  // not hex
            $"goq-user-key-1 alice {id} {new string('g', 64)}",
            $"goq-user-key-1 alice {id} {key} extra",        // extra field
            $"goq-user-key-1 alice {id}",                    // a field short
            $"goq-user-key-1 alice  {id} {key}",             // two spaces: an empty field
            $"goq-user-key-1\talice\t{id}\t{key}",            // tabs are not the separator
        };
    }

    [Theory]
    [MemberData(nameof(NotKeyFiles))]
    public void Parse_RefusesWhatIsNotAKeyFile(string text) => Assert.Null(UserKey.Parse(text));

    [Fact]
    public void Derive_IsDeterministic_AndIsHmacOfPurposeIdAndName()
    {
        var one = UserKey.Derive(Secret, "alice", IdA);
        var two = UserKey.Derive(Secret.ToArray(), "alice", IdA.ToArray());
        Assert.Equal(one.Key, two.Key);
        Assert.Equal(UserKey.KeyBytes, one.Key.Length);

        // The documented layout: "goq user key 1\0" + id + a zero byte + the UTF-8 name, keyed by the cluster secret.
        byte[] input = [.. "goq user key 1\0"u8.ToArray(), .. IdA, 0, .. "alice"u8.ToArray()];
        Assert.Equal(HMACSHA256.HashData(Secret, input), one.Key);
    }

    [Fact]
    public void Derive_DiffersByKeyId_ByName_AndByClusterSecret()
    {
        var baseline = UserKey.Derive(Secret, "alice", IdA).Key;
        var otherSecret = Secret.ToArray();
        otherSecret[31] ^= 1;

        Assert.NotEqual(baseline, UserKey.Derive(Secret, "alice", IdB).Key);
        Assert.NotEqual(baseline, UserKey.Derive(Secret, "alicf", IdA).Key);
        Assert.NotEqual(baseline, UserKey.Derive(Secret, "Alice", IdA).Key);
        Assert.NotEqual(baseline, UserKey.Derive(Secret, "alice2", IdA).Key);
        Assert.NotEqual(baseline, UserKey.Derive(otherSecret, "alice", IdA).Key);
    }

    [Fact]
    public void Derive_CopiesTheId_SoTheCallersArrayCanChange()
    {
        var id = IdA.ToArray();
        var key = UserKey.Derive(Secret, "alice", id);
        id[0] = 0xff;
        Assert.Equal(IdA, key.KeyId);
    }

    [Fact]
    public void ToString_NamesTheIdAndUser_NeverTheKey()
    {
        var key = UserKey.Derive(Secret, "alice", IdA);
        var text = key.ToString();
        Assert.Contains("0102030405060708", text);
        Assert.Contains("alice", text);
        Assert.DoesNotContain(Hex(key.Key), text);
        Assert.DoesNotContain(Convert.ToHexString(key.Key), text);
        Assert.DoesNotContain(Hex(key.Key)[..16], text);
    }

    [Fact]
    public void Constructor_RefusesWrongLengths()
    {
        Assert.Throws<ArgumentException>(() => new UserKey("alice", new byte[7], new byte[32]));
        Assert.Throws<ArgumentException>(() => new UserKey("alice", new byte[8], new byte[31]));
        Assert.Throws<ArgumentException>(() => new UserKey("alice", new byte[9], new byte[32]));
    }

    [Fact]
    public void NewKeyId_IsEightRandomBytes()
    {
        var ids = Enumerable.Range(0, 16).Select(_ => Hex(UserKey.NewKeyId())).ToList();
        Assert.All(ids, id => Assert.Equal(16, id.Length));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Theory]
    [InlineData("0102030405060708", true)]
    [InlineData("0A0B0C0D0E0F1011", true)]
    [InlineData("01020304050607", false)]
    [InlineData("010203040506070809", false)]
    [InlineData("01020304050607zz", false)]
    [InlineData("", false)]
    public void ParseKeyId_TakesExactlyEightHexBytes(string text, bool valid)
    {
        var id = UserKey.ParseKeyId(text);
        Assert.Equal(valid, id is not null);
        if (valid)
        {
            Assert.Equal(Convert.FromHexString(text), id);
        }
    }

    [Fact]
    public void Load_ReadsTheKeyFile_NullWithoutOne_AndRefusesAFileThatIsNotOne()
    {
        var dir = Directory.CreateTempSubdirectory("goq-test-").FullName;
        try
        {
            Assert.Null(UserKey.Load(dir));
            Assert.Null(UserKey.Load(Path.Combine(dir, "missing")));

            var key = UserKey.Derive(Secret, "alice", IdA);
            File.WriteAllText(Path.Combine(dir, UserKey.FileName), key.ToFileText());
            var loaded = UserKey.Load(dir);
            Assert.NotNull(loaded);
            Assert.Equal(key.Key, loaded.Key);

            File.WriteAllText(Path.Combine(dir, UserKey.FileName), "garbage " + Hex(key.Key));
            var ex = Assert.Throws<GoqException>(() => UserKey.Load(dir));
            Assert.Equal(GoqErrorIds.CredentialsMissing, ex.ErrorId);
            Assert.Contains(Path.Combine(dir, UserKey.FileName), ex.Message);
            Assert.DoesNotContain(Hex(key.Key), ex.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("a.b_c-d")]
    [InlineData("A")]
    [InlineData("x1")]
    [InlineData("_svc")]
    [InlineData("0day")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")] // 32
    public void UserNames_AcceptLoginNames(string name)
    {
        Assert.True(UserNames.IsValid(name));
        Assert.True(name.Length <= UserNames.MaxLength);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-x")]
    [InlineData(".x")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")] // 33
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("é")]
    [InlineData("alicé")]
    [InlineData("a:b")]
    [InlineData("a\nb")]
    [InlineData("a\0")]
    public void UserNames_RefuseAnythingElse(string? name) => Assert.False(UserNames.IsValid(name));

    [Fact]
    public void UserNames_MaxLength_IsThirtyTwo()
    {
        Assert.Equal(32, UserNames.MaxLength);
        Assert.True(UserNames.IsValid(new string('a', 32)));
        Assert.False(UserNames.IsValid(new string('a', 33)));
    }
}
