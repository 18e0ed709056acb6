using Xunit;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>
/// Tests that run whole clusters (in process or as OS processes) against their own redis-server: they run alone,
/// after the parallel conformance classes, so their timing measurements are not disturbed on a 2-core machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "redis-cluster-runs";
}
