using Microsoft.Extensions.Logging;

namespace DistributedCron.TestHost.Backends;

/// <summary>
/// Builds the registry named by <c>--backend</c>. Each backend lives in its own file beside this one
/// (<c>static Task&lt;IRegistry&gt; CreateAsync(HostArgs, ILoggerFactory, CancellationToken)</c>) and adds one line here.
/// </summary>
internal static class BackendFactory
{
    public static Task<IRegistry> CreateAsync(HostArgs args, ILoggerFactory loggers, CancellationToken ct) => args.Backend switch
    {
        "redis" => RedisBackend.CreateAsync(args, loggers, ct),
        "etcd" => EtcdBackend.CreateAsync(args, loggers, ct),
        "zookeeper" => ZooKeeperBackend.CreateAsync(args, loggers, ct),
        "consul" => ConsulBackend.CreateAsync(args, loggers, ct),
        _ => throw new ArgumentException($"Unknown --backend '{args.Backend}' (each backend adds one line to Backends/BackendFactory.cs)."),
    };
}
