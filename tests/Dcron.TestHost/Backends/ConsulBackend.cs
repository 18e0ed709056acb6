using System.Globalization;
using DistributedCron.Registry.Consul;
using Microsoft.Extensions.Logging;

namespace DistributedCron.TestHost.Backends;

/// <summary>
/// <c>--backend consul --connect "http://127.0.0.1:8500"</c>: the agent's HTTP(S) address. Options:
/// <c>--option token=…</c> (ACL token), <c>--option dc=…</c>, <c>--option ca=PATH</c>,
/// <c>--option cert=PATH --option key=PATH</c>, <c>--option server-name=NAME</c>, <c>--option request-timeout-ms=N</c>,
/// <c>--option blocking-wait-ms=N</c>, <c>--option min-session-ttl-ms=N</c>.
/// </summary>
internal static class ConsulBackend
{
    public static Task<IRegistry> CreateAsync(HostArgs args, ILoggerFactory loggers, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var o = new ConsulRegistryOptions
        {
            Address = args.Connect,
            Namespace = args.Namespace,
            Token = args.Options.GetValueOrDefault("token"),
            Datacenter = args.Options.GetValueOrDefault("dc"),
            CaCertificatePath = args.Options.GetValueOrDefault("ca"),
            ClientCertificatePath = args.Options.GetValueOrDefault("cert"),
            ClientKeyPath = args.Options.GetValueOrDefault("key"),
            ServerName = args.Options.GetValueOrDefault("server-name"),
        };
        if (args.Options.TryGetValue("request-timeout-ms", out var rt))
        {
            o.RequestTimeout = TimeSpan.FromMilliseconds(int.Parse(rt, CultureInfo.InvariantCulture));
        }

        if (args.Options.TryGetValue("blocking-wait-ms", out var bw))
        {
            o.BlockingWait = TimeSpan.FromMilliseconds(int.Parse(bw, CultureInfo.InvariantCulture));
        }

        if (args.Options.TryGetValue("min-session-ttl-ms", out var mt))
        {
            o.MinSessionTtl = TimeSpan.FromMilliseconds(int.Parse(mt, CultureInfo.InvariantCulture));
        }

        return Task.FromResult<IRegistry>(new ConsulRegistry(o, loggers.CreateLogger<ConsulRegistry>()));
    }
}
