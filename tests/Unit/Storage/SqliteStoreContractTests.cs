using Goq.Storage;
using Goq.Tests.Support;

namespace Goq.Tests.Storage;

/// <summary>The store contract (<see cref="JobStoreContract"/>) over the embedded store: one SQLite file in a folder of the test's own.</summary>
public sealed class SqliteStoreContractTests : JobStoreContract
{
    private readonly TempDir _dir = new();

    protected override StagedJobStore Open() => new SqliteJobStore(_dir.Combine("goq.db"));

    public override void Dispose()
    {
        _dir.Dispose();
        base.Dispose();
    }
}
