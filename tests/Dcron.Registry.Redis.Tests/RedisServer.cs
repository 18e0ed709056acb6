using System.Net.Sockets;
using System.Text;
using DistributedCron.Testing;
using StackExchange.Redis;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>
/// A redis-server a test run starts itself on 127.0.0.1 with a free port and a temporary data directory, and
/// stops (or kills) by its own PID only.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly ExternalServer _server;

    private RedisServer(ExternalServer server, int port, string? password)
    {
        _server = server;
        Port = port;
        Password = password;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>The password (requirepass), or null.</summary>
    public string? Password { get; }

    /// <summary>host:port.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The PID of the running server.</summary>
    public int? Pid => _server.Pid;

    /// <summary>The underlying process wrapper (stop, kill, restart).</summary>
    public ExternalServer Process => _server;

    /// <summary>
    /// Starts redis-server. <paramref name="persistent"/> turns on the append-only file with fsync on every write
    /// (for restart tests); otherwise nothing is persisted.
    /// </summary>
    /// <param name="name">For logs and the temporary directory.</param>
    /// <param name="password">requirepass, or null.</param>
    /// <param name="persistent">appendonly yes + appendfsync always.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <param name="tls">(work dir, port) → the TLS arguments (the plain port is then disabled) and a readiness probe.</param>
    public static async Task<RedisServer> StartAsync(string name, string? password = null, bool persistent = false, CancellationToken ct = default,
        Func<string, int, (IEnumerable<string> Args, Func<CancellationToken, Task<bool>> Probe)>? tls = null)
    {
        var port = FreePort.Next();
        var dir = ExternalServer.NewWorkDir("redis-" + name);
        var tlsSetup = tls?.Invoke(dir, port);
        var args = new List<string>
        {
            "--bind", "127.0.0.1", "--port", tlsSetup is null ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0",
            "--dir", dir, "--save", "", "--daemonize", "no", "--protected-mode", "yes",

            // Log to a file, not stdout: ExternalServer closes its stdout log when the process exits, and a line
            // still in flight then (redis prints its shutdown on SIGTERM) would crash the test host.
            "--logfile", Path.Combine(dir, "redis-server.log"),
        };
        args.AddRange(persistent
            ? ["--appendonly", "yes", "--appendfsync", "always"]
            : ["--appendonly", "no"]);
        if (password is not null)
        {
            args.AddRange(["--requirepass", password]);
        }

        if (tlsSetup is { } t)
        {
            args.AddRange(t.Args);
        }

        Func<CancellationToken, Task<bool>> probe = tlsSetup?.Probe ?? (c => PingAsync(port, password, c));
        var server = new ExternalServer("redis-" + name, "redis-server", args, probe, dir, TimeSpan.FromSeconds(30));
        await server.StartAsync(ct).ConfigureAwait(false);
        return new RedisServer(server, port, password);
    }

    /// <summary>Configuration options for a client of this server with its password (abortConnect off, short timeouts).</summary>
    public ConfigurationOptions Options(TimeSpan? timeout = null) => ClientOptions(Endpoint, Password, timeout);

    /// <summary>Client options for any endpoint and password.</summary>
    public static ConfigurationOptions ClientOptions(string endpoint, string? password, TimeSpan? timeout = null)
    {
        var ms = (int)(timeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        var o = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = ms,
            SyncTimeout = ms,
            ConnectRetry = 1,
            Password = password,
            ClientName = "dcron-tests",
        };
        o.EndPoints.Add(endpoint);
        return o;
    }

    /// <summary>Connects a new multiplexer with the server's password.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync(TimeSpan? timeout = null) =>
        await ConnectionMultiplexer.ConnectAsync(Options(timeout)).ConfigureAwait(false);

    /// <summary>Connects a new multiplexer with another (wrong, or no) password.</summary>
    public async Task<ConnectionMultiplexer> ConnectWithPasswordAsync(string? password, TimeSpan? timeout = null) =>
        await ConnectionMultiplexer.ConnectAsync(ClientOptions(Endpoint, password, timeout)).ConfigureAwait(false);

    /// <summary>A registry with its own multiplexer, which it disposes.</summary>
    public async Task<RedisRegistry> CreateRegistryAsync(string ns, Action<RedisRegistryOptions>? configure = null)
    {
        var mux = await ConnectAsync().ConfigureAwait(false);
        var options = new RedisRegistryOptions { Namespace = ns, DisposeMultiplexer = true, WatchPollInterval = TimeSpan.FromMilliseconds(500) };
        configure?.Invoke(options);
        return new RedisRegistry(mux, options);
    }

    /// <summary>Stops gracefully (SIGTERM).</summary>
    public Task StopAsync() => _server.StopAsync();

    /// <summary>Kills (SIGKILL).</summary>
    public Task KillAsync() => _server.KillAsync();

    /// <summary>Starts again on the same port and directory.</summary>
    public Task RestartAsync(CancellationToken ct = default) => _server.StartAsync(ct);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    /// <summary>Speaks RESP directly: (AUTH,) PING → PONG.</summary>
    private static async Task<bool> PingAsync(int port, string? password, CancellationToken ct)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, ct).ConfigureAwait(false);
        return await PingAsync(tcp.GetStream(), password, ct).ConfigureAwait(false);
    }

    /// <summary>(AUTH,) PING → PONG over an open stream (plain or TLS).</summary>
    public static async Task<bool> PingAsync(Stream stream, string? password, CancellationToken ct)
    {
        var cmd = (password is null ? "" : $"AUTH {password}\r\n") + "PING\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(cmd), ct).ConfigureAwait(false);
        var buf = new byte[256];
        var text = new StringBuilder();
        while (!text.ToString().Contains("PONG", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buf, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            text.Append(Encoding.ASCII.GetString(buf, 0, n));
            if (text.ToString().Contains("-LOADING", StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
