using System.Globalization;
using DistributedCron.Bench;
using DistributedCron.Testing;

namespace DistributedCron.Chaos;

/// <summary>Starts one registry server on a free 127.0.0.1 port (the same way the backends' tests do).</summary>
internal static class Servers
{
    public static async Task<(ExternalServer Server, string Connect)> StartAsync(string backend, CancellationToken ct)
    {
        var (server, connect) = backend switch
        {
            "redis" => LocalServers.Redis("chaos"),
            "etcd" => LocalServers.Etcd(ExternalServer.NewWorkDir("chaos-etcd")),
            "zookeeper" => LocalServers.ZooKeeper("chaos"),
            "consul-emulator" => ConsulEmulator(),
            _ => throw new ArgumentException($"Unknown backend '{backend}'.", nameof(backend)),
        };
        await server.StartAsync(ct).ConfigureAwait(false);
        return (server, connect);
    }

    /// <summary>
    /// The in-repo emulator of Consul's HTTP API (tests/ConsulEmulator) in its own process, with Consul's defaults:
    /// 10 s session TTL minimum, sessions reaped at 2 × TTL. It keeps its state in memory only.
    /// </summary>
    private static (ExternalServer Server, string Connect) ConsulEmulator()
    {
        var p = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var dll = Path.Combine(AppContext.BaseDirectory, "ConsulEmulator.dll");
        var url = "http://127.0.0.1:" + p;
        var server = new ExternalServer("consul-emulator", "dotnet", [dll, "--port", p, "--exit-on-stdin-eof"],
            async c =>
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                return (await http.GetAsync(url + "/v1/status/leader", c).ConfigureAwait(false)).IsSuccessStatusCode;
            }, ExternalServer.NewWorkDir("chaos-consul"));
        return (server, url);
    }
}
