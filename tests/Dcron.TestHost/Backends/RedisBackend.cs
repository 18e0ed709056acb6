using DistributedCron.Registry.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistributedCron.TestHost.Backends;

/// <summary>
/// <c>--backend redis --connect "127.0.0.1:6379[,password=…][,ssl=true,sslHost=…]"</c>: the connect string is a
/// StackExchange.Redis configuration string; <c>abortConnect=false</c> is added so the node starts while Redis is down.
/// </summary>
internal static class RedisBackend
{
    public static async Task<IRegistry> CreateAsync(HostArgs args, ILoggerFactory loggers, CancellationToken ct)
    {
        var config = ConfigurationOptions.Parse(args.Connect);
        config.AbortOnConnectFail = false;
        config.ClientName ??= "dcron-" + args.NodeId;
        var mux = await ConnectionMultiplexer.ConnectAsync(config).WaitAsync(ct).ConfigureAwait(false);
        return new RedisRegistry(mux, new RedisRegistryOptions { Namespace = args.Namespace, DisposeMultiplexer = true },
            loggers.CreateLogger<RedisRegistry>());
    }
}
