using DistributedCron.Registry.ZooKeeper.Client;
using DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;

namespace DistributedCron.Registry.ZooKeeper.Tests;

/// <summary>
/// The conformance target: one standalone ZooKeeper started for the whole run (shared by every test class
/// through <see cref="SharedTarget{TTarget}"/>); every registry gets its own sessions.
/// </summary>
public sealed class ZooKeeperTarget : RegistryTestTarget
{
    /// <summary>The digest user the authentication cases protect their namespaces with.</summary>
    public const string User = "alice";

    /// <summary>Its password.</summary>
    public const string Secret = "secret";

    private ZooKeeperServer? _server;

    /// <summary>The shared server.</summary>
    public ZooKeeperServer Server => _server ?? throw new InvalidOperationException("The ZooKeeper server is not started.");

    /// <summary>"127.0.0.1:port" of the shared server.</summary>
    public string ConnectString => Server.Address;

    /// <inheritdoc />
    public override TimeSpan NodeTtl => TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public override TimeSpan ExpiryTolerance => TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public override async Task InitializeAsync()
    {
        _server = ZooKeeperServer.Standalone();
        await _server.StartAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Options for the shared server (tests may adjust them).</summary>
    public ZooKeeperRegistryOptions Options(string @namespace, string? connect = null) => new()
    {
        ConnectString = connect ?? ConnectString,
        Namespace = @namespace,
        SessionTimeout = TimeSpan.FromSeconds(4),
        RequestTimeout = TimeSpan.FromSeconds(5),
        WatchMaxRetryDelay = TimeSpan.FromMilliseconds(500),
    };

    /// <inheritdoc />
    public override Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
        Task.FromResult<IRegistry>(new ZooKeeperRegistry(Options(@namespace), TestLog.For<ZooKeeperRegistry>()));

    /// <inheritdoc />
    public override Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct)
    {
        var o = Options(@namespace, $"127.0.0.1:{FreePort.Next()}");
        o.RequestTimeout = timeout;
        return Task.FromResult<IRegistry>(new ZooKeeperRegistry(o));
    }

    /// <inheritdoc />
    public override Task<IRegistry?> CreateRegistryForEndpointAsync(string host, int port, string @namespace, TimeSpan timeout, CancellationToken ct)
    {
        var o = Options(@namespace, $"{host}:{port}");
        o.RequestTimeout = timeout;
        return Task.FromResult<IRegistry?>(new ZooKeeperRegistry(o));
    }

    /// <inheritdoc />
    /// <remarks>Counts every znode under the namespace's root, the root included.</remarks>
    public override async Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct)
    {
        await using var client = RawClient(ConnectString);
        return await CountAsync(client, "/" + @namespace, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The namespace is first laid out by a client with the right credentials (so its znodes carry alice's digest
    /// ACL); the returned client authenticates as alice with a wrong password.
    /// </remarks>
    public override async Task<IRegistry?> CreateWithWrongCredentialsAsync(string @namespace, CancellationToken ct)
    {
        var good = Options(@namespace);
        good.Username = User;
        good.Password = Secret;
        await using (var owner = new ZooKeeperRegistry(good))
        {
            await owner.GetTasksAsync(ct).ConfigureAwait(false);
        }

        var bad = Options(@namespace);
        bad.Username = User;
        bad.Password = "wrong-" + Secret;
        return new ZooKeeperRegistry(bad);
    }

    /// <inheritdoc />
    public override async Task<IRestartableServer?> StartDedicatedServerAsync(CancellationToken ct)
    {
        var server = ZooKeeperServer.Standalone();
        await server.StartAsync(ct).ConfigureAwait(false);
        return new RestartableZooKeeper(server, this);
    }

    /// <summary>A bare client of the protocol for inspecting the server.</summary>
    internal static ZkClient RawClient(string connect, string? user = null, string? password = null) => new(new ZkClientOptions
    {
        Servers = ZkConnectString.Parse(connect).Servers,
        SessionTimeout = TimeSpan.FromSeconds(4),
        RequestTimeout = TimeSpan.FromSeconds(5),
        Auth = user is null ? [] : [("digest", System.Text.Encoding.UTF8.GetBytes(user + ":" + password))],
        Identity = user ?? "anonymous",
        Name = "test",
    });

    private static async Task<long> CountAsync(ZkClient client, string path, CancellationToken ct)
    {
        var children = await client.GetChildrenAsync(path, false, ct).ConfigureAwait(false);
        if (children is null)
        {
            return 0;
        }

        long n = 1;
        foreach (var c in children)
        {
            n += await CountAsync(client, path + "/" + c, ct).ConfigureAwait(false);
        }

        return n;
    }

    private sealed class RestartableZooKeeper(ZooKeeperServer server, ZooKeeperTarget target) : IRestartableServer
    {
        public Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
            Task.FromResult<IRegistry>(new ZooKeeperRegistry(target.Options(@namespace, server.Address), TestLog.For<ZooKeeperRegistry>()));

        public Task StopAsync(CancellationToken ct) => server.StopAsync();

        public Task StartAsync(CancellationToken ct) => server.StartAsync(ct);

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }
}
