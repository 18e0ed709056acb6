using System.Globalization;
using DistributedCron.Registry.Etcd;
using Microsoft.Extensions.Logging;

namespace DistributedCron.TestHost.Backends;

/// <summary>
/// <c>--backend etcd --connect "http://127.0.0.1:2379[,http://127.0.0.1:22379…]"</c>: comma-separated client URLs of
/// the etcd members. Options: <c>--option username=… --option password=…</c>, <c>--option ca=PATH</c>,
/// <c>--option cert=PATH --option key=PATH</c>, <c>--option server-name=NAME</c>, <c>--option request-timeout-ms=N</c>.
/// </summary>
internal static class EtcdBackend
{
    public static Task<IRegistry> CreateAsync(HostArgs args, ILoggerFactory loggers, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var o = new EtcdRegistryOptions
        {
            Endpoints = args.Connect.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            Namespace = args.Namespace,
            Username = args.Options.GetValueOrDefault("username"),
            Password = args.Options.GetValueOrDefault("password"),
            CaCertificatePath = args.Options.GetValueOrDefault("ca"),
            ClientCertificatePath = args.Options.GetValueOrDefault("cert"),
            ClientKeyPath = args.Options.GetValueOrDefault("key"),
            ServerName = args.Options.GetValueOrDefault("server-name"),
        };
        if (args.Options.TryGetValue("request-timeout-ms", out var ms))
        {
            o.RequestTimeout = TimeSpan.FromMilliseconds(int.Parse(ms, CultureInfo.InvariantCulture));
        }

        return Task.FromResult<IRegistry>(new EtcdRegistry(o, loggers.CreateLogger<EtcdRegistry>()));
    }
}
