using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using StackExchange.Redis;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>
/// The conformance target: one redis-server per test run (with a password, so every test also authenticates and
/// the wrong-credentials case runs), every registry with its own multiplexer.
/// </summary>
public sealed class RedisTarget : RegistryTestTarget
{
    private RedisServer? _server;
    private ConnectionMultiplexer? _admin;

    /// <summary>The shared server.</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("Not initialized.");

    /// <inheritdoc />
    public override TimeSpan NodeTtl => TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public override TimeSpan ExpiryTolerance => TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public override async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync("shared", password: "pw-" + Guid.NewGuid().ToString("N")[..16]).ConfigureAwait(false);
        _admin = await _server.ConnectAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        _admin?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override async Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
        await Server.CreateRegistryAsync(@namespace).ConfigureAwait(false);

    /// <inheritdoc />
    public override Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct) =>
        ForEndpointAsync($"127.0.0.1:{FreePort.Next()}", null, @namespace, timeout);

    /// <inheritdoc />
    public override async Task<IRegistry?> CreateRegistryForEndpointAsync(string host, int port, string @namespace, TimeSpan timeout, CancellationToken ct) =>
        await ForEndpointAsync($"{host}:{port}", null, @namespace, timeout).ConfigureAwait(false);

    /// <inheritdoc />
    public override async Task<IRegistry?> CreateWithWrongCredentialsAsync(string @namespace, CancellationToken ct) =>
        await ForEndpointAsync(Server.Endpoint, "wrong-password", @namespace, TimeSpan.FromSeconds(5)).ConfigureAwait(false);

    /// <inheritdoc />
    public override async Task<IRestartableServer?> StartDedicatedServerAsync(CancellationToken ct) =>
        new RestartableRedis(await RedisServer.StartAsync("dedicated", persistent: true, ct: ct).ConfigureAwait(false));

    /// <inheritdoc />
    public override async Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct)
    {
        var admin = _admin ?? throw new InvalidOperationException("Not initialized.");
        var server = admin.GetServer(Server.Endpoint);
        var db = admin.GetDatabase();
        long count = 0;
        foreach (var key in server.Keys(pattern: "{" + @namespace + "}:*", pageSize: 1000))
        {
            count += await db.KeyTypeAsync(key).ConfigureAwait(false) switch
            {
                RedisType.Hash => await db.HashLengthAsync(key).ConfigureAwait(false),
                RedisType.SortedSet => await db.SortedSetLengthAsync(key).ConfigureAwait(false),
                RedisType.Set => await db.SetLengthAsync(key).ConfigureAwait(false),
                RedisType.List => await db.ListLengthAsync(key).ConfigureAwait(false),
                _ => 1,
            };
        }

        return count;
    }

    private static async Task<IRegistry> ForEndpointAsync(string endpoint, string? password, string ns, TimeSpan timeout)
    {
        var connect = timeout < TimeSpan.FromSeconds(2) ? timeout : TimeSpan.FromSeconds(2);
        var mux = await ConnectionMultiplexer.ConnectAsync(RedisServer.ClientOptions(endpoint, password, connect)).ConfigureAwait(false);
        return new RedisRegistry(mux, new RedisRegistryOptions { Namespace = ns, OperationTimeout = timeout, DisposeMultiplexer = true });
    }

    private sealed class RestartableRedis(RedisServer server) : IRestartableServer
    {
        public async Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
            await server.CreateRegistryAsync(@namespace).ConfigureAwait(false);

        public Task StopAsync(CancellationToken ct) => server.StopAsync();

        public Task StartAsync(CancellationToken ct) => server.RestartAsync(ct);

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }
}
