namespace Goq.SystemTests.Support;

/// <summary>
/// Tests that start real processes and servers with short heartbeats run one class at a time: on a 2-core machine,
/// running them side by side can starve a worker long enough to look dead, which is not what they test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealProcessesCollection
{
    public const string Name = "Real processes";
}
