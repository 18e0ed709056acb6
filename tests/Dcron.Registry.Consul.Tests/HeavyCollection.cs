using Xunit;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>
/// Tests that measure timings (the multi-process kill run): they run alone, so a 2-core machine busy with the
/// conformance suite does not distort what they print.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "consul-timed-runs";
}
