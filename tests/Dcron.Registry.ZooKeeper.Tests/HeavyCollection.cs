using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests;

/// <summary>
/// Tests that run several servers or whole clusters of processes (the ensemble failover, the multi-process kill
/// test): they run alone, not alongside the parallel conformance classes, so their printed timings are not
/// disturbed on a 2-core machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "zookeeper-cluster-runs";
}
