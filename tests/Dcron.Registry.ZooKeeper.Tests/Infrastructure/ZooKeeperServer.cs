using System.Net.Sockets;
using System.Text;
using DistributedCron.Testing;

namespace DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;

/// <summary>
/// A ZooKeeper 3.8 server this test run starts itself: java directly (no JMX, no admin server), tickTime=500 so
/// sessions of 1–10 s can be negotiated, forceSync off, on a free 127.0.0.1 port; standalone or one member of a
/// loopback ensemble. Stopped by its own PID only.
/// </summary>
public sealed class ZooKeeperServer : IAsyncDisposable
{
    private const string ZooKeeperJar = "/usr/share/java/zookeeper.jar";
    private const string Slf4jSimpleJar = "/usr/share/java/slf4j-simple.jar";
    private readonly ExternalServer _process;

    private ZooKeeperServer(int myId, int clientPort, string workDir, string config)
    {
        MyId = myId;
        ClientPort = clientPort;
        var dataDir = Path.Combine(workDir, "data");
        Directory.CreateDirectory(dataDir);
        if (myId > 0)
        {
            File.WriteAllText(Path.Combine(dataDir, "myid"), myId + "\n");
        }

        var cfg = Path.Combine(workDir, "zoo.cfg");
        File.WriteAllText(cfg, config.Replace("@DATA@", dataDir, StringComparison.Ordinal));
        _process = new ExternalServer($"zookeeper{(myId > 0 ? myId.ToString() : "")}", "java",
            [
                "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
                "-Dzookeeper.admin.enableServer=false",
                "-cp", $"{ZooKeeperJar}:{Slf4jSimpleJar}",
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg,
            ],
            ct => IsServingAsync(clientPort, ct), workDir, TimeSpan.FromSeconds(60));
    }

    /// <summary>The member id (0 for a standalone server).</summary>
    public int MyId { get; }

    /// <summary>The client port on 127.0.0.1.</summary>
    public int ClientPort { get; }

    /// <summary>"127.0.0.1:port".</summary>
    public string Address => $"127.0.0.1:{ClientPort}";

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => _process.IsRunning;

    /// <summary>The server's log of its latest start.</summary>
    public string LogTail() => _process.Tail();

    /// <summary>True when java and the ZooKeeper jar are installed (scripts/install-deps.sh installs them).</summary>
    public static bool IsInstalled => File.Exists(ZooKeeperJar) && File.Exists(Slf4jSimpleJar);

    /// <summary>A standalone server (not started yet).</summary>
    public static ZooKeeperServer Standalone(string? workDir = null)
    {
        var port = FreePort.Next();
        return new ZooKeeperServer(0, port, workDir ?? ExternalServer.NewWorkDir("zk"), BaseConfig(port));
    }

    /// <summary>The members of a loopback ensemble of <paramref name="size"/> servers (not started yet).</summary>
    public static IReadOnlyList<ZooKeeperServer> Ensemble(int size = 3)
    {
        var ports = Enumerable.Range(0, size).Select(_ => (Client: FreePort.Next(), Quorum: FreePort.Next(), Election: FreePort.Next())).ToArray();
        var members = new StringBuilder();
        for (var i = 0; i < size; i++)
        {
            members.Append($"server.{i + 1}=127.0.0.1:{ports[i].Quorum}:{ports[i].Election}\n");
        }

        return Enumerable.Range(0, size)
            .Select(i => new ZooKeeperServer(i + 1, ports[i].Client, ExternalServer.NewWorkDir($"zk{i + 1}"), BaseConfig(ports[i].Client) + members))
            .ToArray();
    }

    /// <summary>Starts the process and waits until it serves requests (for an ensemble member: until a quorum exists).</summary>
    public Task StartAsync(CancellationToken ct = default) => _process.StartAsync(ct);

    /// <summary>Stops gracefully (SIGTERM); the data directory stays.</summary>
    public Task StopAsync() => _process.StopAsync();

    /// <summary>Kills at once (SIGKILL).</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>The server's mode from <c>srvr</c> (standalone, leader, follower), or null when it does not serve.</summary>
    public async Task<string?> ModeAsync(CancellationToken ct = default)
    {
        try
        {
            var text = await FourLetterWordAsync(ClientPort, "srvr", ct).ConfigureAwait(false);
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("Mode:", StringComparison.Ordinal));
            return line?["Mode:".Length..].Trim();
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return null;
        }
    }

    /// <summary>Sends a four-letter word and returns the whole answer.</summary>
    public static async Task<string> FourLetterWordAsync(int port, string word, CancellationToken ct)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, ct).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(word), ct).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static async Task<bool> IsServingAsync(int port, CancellationToken ct)
    {
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(ct);
        probe.CancelAfter(TimeSpan.FromSeconds(2));
        var text = await FourLetterWordAsync(port, "srvr", probe.Token).ConfigureAwait(false);
        return text.Contains("Mode:", StringComparison.Ordinal);
    }

    private static string BaseConfig(int clientPort) => $"""
        tickTime=500
        initLimit=20
        syncLimit=10
        dataDir=@DATA@
        clientPort={clientPort}
        clientPortAddress=127.0.0.1
        maxClientCnxns=0
        forceSync=no
        admin.enableServer=false
        4lw.commands.whitelist=srvr,ruok,stat,mntr,cons,conf
        extendedTypesEnabled=false

        """;
}
