using System.Globalization;
using System.Net.Sockets;
using System.Text;
using DistributedCron.Testing;

namespace DistributedCron.Chaos;

/// <summary>Starts one registry server on a free 127.0.0.1 port (the same way the backends' tests do).</summary>
internal static class Servers
{
    public static async Task<(ExternalServer Server, string Connect)> StartAsync(string backend, CancellationToken ct)
    {
        var port = FreePort.Next();
        var p = port.ToString(CultureInfo.InvariantCulture);
        ExternalServer server;
        string connect;
        switch (backend)
        {
            case "redis":
            {
                var dir = ExternalServer.NewWorkDir("chaos-redis");
                server = new ExternalServer("redis", "redis-server",
                    ["--bind", "127.0.0.1", "--port", p, "--dir", dir, "--save", "", "--daemonize", "no", "--appendonly", "yes",
                        "--appendfsync", "everysec", "--logfile", Path.Combine(dir, "redis-server.log")],
                    c => Rpc(port, "PING\r\n", "PONG", c), dir, TimeSpan.FromSeconds(30));
                connect = "127.0.0.1:" + p;
                break;
            }

            case "etcd":
            {
                var dir = ExternalServer.NewWorkDir("chaos-etcd");
                var peer = FreePort.Next().ToString(CultureInfo.InvariantCulture);
                var url = "http://127.0.0.1:" + p;
                server = new ExternalServer("etcd", "etcd",
                    ["--name", "m0", "--data-dir", Path.Combine(dir, "data"), "--listen-client-urls", url, "--advertise-client-urls", url,
                        "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                        "--initial-cluster", "m0=http://127.0.0.1:" + peer, "--initial-cluster-state", "new", "--logger", "zap",
                        "--log-outputs", Path.Combine(dir, "etcd.log")],
                    async c =>
                    {
                        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                        var body = await http.GetStringAsync(url + "/health", c).ConfigureAwait(false);
                        return body.Contains("\"health\":\"true\"", StringComparison.Ordinal);
                    }, dir);
                connect = url;
                break;
            }

            case "consul-emulator":
            {
                // The in-repo emulator of Consul's HTTP API (tests/ConsulEmulator) in its own process, with Consul's
                // defaults: 10 s session TTL minimum, sessions reaped at 2 × TTL.
                var dll = Path.Combine(AppContext.BaseDirectory, "ConsulEmulator.dll");
                var url = "http://127.0.0.1:" + p;
                server = new ExternalServer("consul-emulator", "dotnet", [dll, "--port", p, "--exit-on-stdin-eof"],
                    async c =>
                    {
                        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                        return (await http.GetAsync(url + "/v1/status/leader", c).ConfigureAwait(false)).IsSuccessStatusCode;
                    }, ExternalServer.NewWorkDir("chaos-consul"));
                connect = url;
                break;
            }

            case "zookeeper":
            {
                var dir = ExternalServer.NewWorkDir("chaos-zk");
                var data = Path.Combine(dir, "data");
                Directory.CreateDirectory(data);
                var cfg = Path.Combine(dir, "zoo.cfg");
                await File.WriteAllTextAsync(cfg, $"""
                    tickTime=500
                    initLimit=20
                    syncLimit=10
                    dataDir={data}
                    clientPort={p}
                    clientPortAddress=127.0.0.1
                    maxClientCnxns=0
                    forceSync=no
                    admin.enableServer=false
                    4lw.commands.whitelist=srvr,ruok
                    extendedTypesEnabled=false

                    """, ct).ConfigureAwait(false);
                server = new ExternalServer("zookeeper", "java",
                    ["-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
                        "-Dzookeeper.admin.enableServer=false", "-cp", "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
                        "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
                    c => Rpc(port, "srvr", "Mode:", c), dir, TimeSpan.FromSeconds(60));
                connect = "127.0.0.1:" + p;
                break;
            }

            default:
                throw new ArgumentException($"Unknown backend '{backend}'.", nameof(backend));
        }

        await server.StartAsync(ct).ConfigureAwait(false);
        return (server, connect);
    }

    /// <summary>Sends <paramref name="request"/> and reads until <paramref name="expect"/> shows up or the peer closes.</summary>
    private static async Task<bool> Rpc(int port, string request, string expect, CancellationToken ct)
    {
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(ct);
        probe.CancelAfter(TimeSpan.FromSeconds(2));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, probe.Token).ConfigureAwait(false);
        var s = tcp.GetStream();
        await s.WriteAsync(Encoding.ASCII.GetBytes(request), probe.Token).ConfigureAwait(false);
        var buf = new byte[512];
        var text = new StringBuilder();
        while (!text.ToString().Contains(expect, StringComparison.Ordinal))
        {
            var n = await s.ReadAsync(buf, probe.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            text.Append(Encoding.ASCII.GetString(buf, 0, n));
        }

        return true;
    }
}
