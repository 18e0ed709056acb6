using Microsoft.Extensions.Configuration;
using DistributedCron.Hosting;

namespace DistributedCron.Worker;

/// <summary>Chooses the registry named by <c>Dcron:Registry</c>.</summary>
internal static class RegistrySelection
{
    /// <summary>
    /// <c>InMemory</c> (also when unset), <c>Redis</c>, <c>Etcd</c>, <c>ZooKeeper</c> or <c>Consul</c>; each reads its
    /// own section (<c>Dcron:Redis</c>, …).
    /// </summary>
    public static DcronBuilder UseConfiguredRegistry(this DcronBuilder dcron, IConfiguration configuration)
    {
        var name = configuration[$"{dcron.SectionPath}:Registry"]?.Trim();
        return name?.ToLowerInvariant() switch
        {
            null or "" or "inmemory" => dcron.UseInMemory(),
            "redis" => dcron.UseRedis(),
            "etcd" => dcron.UseEtcd(),
            "zookeeper" => dcron.UseZooKeeper(),
            "consul" => dcron.UseConsul(),
            _ => throw new InvalidOperationException(
                $"{dcron.SectionPath}:Registry '{name}' is not a registry: use InMemory, Redis, Etcd, ZooKeeper or Consul."),
        };
    }
}
