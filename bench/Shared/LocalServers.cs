using System.Globalization;
using System.Net.Sockets;
using System.Text;
using DistributedCron.Testing;

namespace DistributedCron.Bench;

/// <summary>
/// The registry servers the bench tools start on a free 127.0.0.1 port (linked into Dcron.Chaos and Dcron.Benchmarks):
/// the same durability settings as the backends' tests. Nothing starts until <see cref="ExternalServer.StartAsync"/>.
/// </summary>
internal static class LocalServers
{
    /// <summary>redis-server with AOF, fsync every second, no RDB snapshots.</summary>
    public static (ExternalServer Server, string Connect) Redis(string prefix)
    {
        var port = FreePort.Next();
        var p = port.ToString(CultureInfo.InvariantCulture);
        var dir = ExternalServer.NewWorkDir(prefix + "-redis");
        var server = new ExternalServer("redis", "redis-server",
            ["--bind", "127.0.0.1", "--port", p, "--dir", dir, "--save", "", "--daemonize", "no", "--appendonly", "yes",
                "--appendfsync", "everysec", "--logfile", Path.Combine(dir, "redis-server.log")],
            c => ProbeAsync(port, "PING\r\n", "PONG", c), dir, TimeSpan.FromSeconds(30));
        return (server, "127.0.0.1:" + p);
    }

    /// <summary>A one-member etcd whose data and log live in <paramref name="dir"/> (a disk or a tmpfs directory).</summary>
    public static (ExternalServer Server, string Connect) Etcd(string dir)
    {
        var url = "http://127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var peer = "http://127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var server = new ExternalServer("etcd", "etcd",
            ["--name", "m0", "--data-dir", Path.Combine(dir, "data"), "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "m0=" + peer,
                "--initial-cluster-state", "new", "--logger", "zap", "--log-outputs", Path.Combine(dir, "etcd.log")],
            async c =>
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                var body = await http.GetStringAsync(url + "/health", c).ConfigureAwait(false);
                return body.Contains("\"health\":\"true\"", StringComparison.Ordinal);
            }, dir);
        return (server, url);
    }

    /// <summary>A standalone ZooKeeper 3.8 (Debian's jar) with <c>forceSync=no</c> and a 500 ms tick.</summary>
    public static (ExternalServer Server, string Connect) ZooKeeper(string prefix)
    {
        var port = FreePort.Next();
        var p = port.ToString(CultureInfo.InvariantCulture);
        var dir = ExternalServer.NewWorkDir(prefix + "-zk");
        var data = Path.Combine(dir, "data");
        Directory.CreateDirectory(data);
        var cfg = Path.Combine(dir, "zoo.cfg");
        File.WriteAllText(cfg, string.Join('\n',
            "tickTime=500", "initLimit=20", "syncLimit=10", "dataDir=" + data, "clientPort=" + p, "clientPortAddress=127.0.0.1",
            "maxClientCnxns=0", "forceSync=no", "admin.enableServer=false", "4lw.commands.whitelist=srvr,ruok",
            "extendedTypesEnabled=false", ""));
        var server = new ExternalServer("zookeeper", "java",
            ["-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
                "-Dzookeeper.admin.enableServer=false", "-cp", "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
            c => ProbeAsync(port, "srvr", "Mode:", c), dir, TimeSpan.FromSeconds(60));
        return (server, "127.0.0.1:" + p);
    }

    /// <summary>Sends <paramref name="request"/> and reads until <paramref name="expect"/> arrives or the peer closes.</summary>
    private static async Task<bool> ProbeAsync(int port, string request, string expect, CancellationToken ct)
    {
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(ct);
        probe.CancelAfter(TimeSpan.FromSeconds(2));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, probe.Token).ConfigureAwait(false);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), probe.Token).ConfigureAwait(false);
        var buffer = new byte[512];
        var text = new StringBuilder();
        while (!text.ToString().Contains(expect, StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, probe.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return true;
    }
}
