using Xunit;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>
/// Tests that measure timings (the multi-process kill run, member failover): they run alone, after the parallel
/// classes, so a 2-core machine busy with the conformance suite does not distort what they print.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "etcd-timed-runs";
}
