using System.Globalization;
using DistributedCron.Registry.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace DistributedCron.TestHost.Backends;

/// <summary>
/// <c>--backend zookeeper --connect "127.0.0.1:2181[,127.0.0.1:2182…][/chroot]"</c>: a ZooKeeper connect string.
/// Options: <c>--option username=… --option password=…</c> (digest auth), <c>--option session-timeout-ms=N</c>,
/// <c>--option request-timeout-ms=N</c>.
/// </summary>
internal static class ZooKeeperBackend
{
    public static Task<IRegistry> CreateAsync(HostArgs args, ILoggerFactory loggers, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var o = new ZooKeeperRegistryOptions
        {
            ConnectString = args.Connect,
            Namespace = args.Namespace,
            Username = args.Options.GetValueOrDefault("username"),
            Password = args.Options.GetValueOrDefault("password"),
        };
        if (args.Options.TryGetValue("session-timeout-ms", out var st))
        {
            o.SessionTimeout = TimeSpan.FromMilliseconds(int.Parse(st, CultureInfo.InvariantCulture));
        }

        if (args.Options.TryGetValue("request-timeout-ms", out var rt))
        {
            o.RequestTimeout = TimeSpan.FromMilliseconds(int.Parse(rt, CultureInfo.InvariantCulture));
        }

        return Task.FromResult<IRegistry>(new ZooKeeperRegistry(o, loggers.CreateLogger<ZooKeeperRegistry>()));
    }
}
