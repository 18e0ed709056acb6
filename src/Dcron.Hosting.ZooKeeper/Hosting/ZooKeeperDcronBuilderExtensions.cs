using DistributedCron.Registry.ZooKeeper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Hosting;

/// <summary>Runs the host's Dcron node on ZooKeeper.</summary>
public static class ZooKeeperDcronBuilderExtensions
{
    /// <summary>The registry's name and configuration sub-section: <c>Dcron:ZooKeeper</c>.</summary>
    public const string SectionName = "ZooKeeper";

    /// <summary>
    /// Uses a <see cref="ZooKeeperRegistry"/>. Its <see cref="ZooKeeperRegistryOptions"/> are bound from
    /// <c>Dcron:ZooKeeper</c> and validated at startup: <c>ConnectString</c> (required, for example
    /// <c>zk-a:2181,zk-b:2181,zk-c:2181/apps</c>), <c>Namespace</c>, <c>SessionTimeout</c>, <c>RequestTimeout</c>,
    /// <c>Username</c>, <c>Password</c>, <c>MaxPayloadBytes</c>, <c>WatchMaxRetryDelay</c>, and <c>Acl</c> (an array of
    /// <c>{ "Permissions": "Read, Write", "Scheme": "world", "Id": "anyone" }</c>).
    /// </summary>
    /// <param name="builder">The Dcron builder.</param>
    /// <param name="configure">Edits the registry options after binding.</param>
    public static DcronBuilder UseZooKeeper(this DcronBuilder builder, Action<ZooKeeperRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseRegistry<ZooKeeperRegistryOptions>(
            SectionName,
            (sp, options) => new ZooKeeperRegistry(options, sp.GetService<ILogger<ZooKeeperRegistry>>()),
            configure,
            o => o.Validate());
    }

    /// <summary>Uses a <see cref="ZooKeeperRegistry"/> on the ensemble <paramref name="connectString"/>; see <see cref="UseZooKeeper(DcronBuilder, Action{ZooKeeperRegistryOptions}?)"/>.</summary>
    /// <param name="builder">The Dcron builder.</param>
    /// <param name="connectString"><c>host:port[,host:port…][/chroot]</c>.</param>
    /// <param name="configure">Edits the registry options after binding.</param>
    public static DcronBuilder UseZooKeeper(this DcronBuilder builder, string connectString, Action<ZooKeeperRegistryOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectString);
        return builder.UseZooKeeper(o =>
        {
            o.ConnectString = connectString;
            configure?.Invoke(o);
        });
    }
}
