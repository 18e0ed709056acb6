using DistributedCron.Registry.Etcd.Tests.Infrastructure;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>
/// The conformance target: one etcd for the whole run, with authentication enabled, so every conformance case also
/// runs through the token path. The test user holds a read-write role on every key under <c>/</c> (conformance
/// namespaces are random); root counts keys.
/// </summary>
public sealed class EtcdTarget : RegistryTestTarget
{
    internal const string User = "dcron-test";
    internal const string Password = "s3cret-pw";
    private const string RootPassword = "root-pw";
    private EtcdCluster? _cluster;
    private EtcdAdmin? _admin;

    /// <summary>The shared server.</summary>
    public EtcdCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    /// <inheritdoc />
    public override TimeSpan UnreachableTimeout => TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public override async Task InitializeAsync()
    {
        _cluster = await EtcdCluster.StartAsync(1, extraArgs: ["--bcrypt-cost", "4"]); // cheap password hashing: many clients log in
        _admin = new EtcdAdmin(_cluster.Endpoints[0]);
        await _admin.EnableAuthAsync(RootPassword, User, Password, "dcron-rw", "/");
    }

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        _admin?.Dispose();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public override Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct)
    {
        var o = Cluster.Options(@namespace);
        o.Username = User;
        o.Password = Password;
        return Task.FromResult<IRegistry>(new EtcdRegistry(o));
    }

    /// <inheritdoc />
    public override Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct) =>
        Task.FromResult<IRegistry>(new EtcdRegistry(new EtcdRegistryOptions
        {
            Endpoints = [$"http://127.0.0.1:{FreePort.Next()}"], // nothing listens there
            Namespace = @namespace,
            RequestTimeout = timeout,
            DialTimeout = timeout < TimeSpan.FromSeconds(1) ? timeout : TimeSpan.FromSeconds(1),
        }));

    /// <inheritdoc />
    public override Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct) =>
        _admin!.CountAsync($"/{@namespace}/", ct);

    /// <inheritdoc />
    public override Task<IRegistry?> CreateWithWrongCredentialsAsync(string @namespace, CancellationToken ct)
    {
        var o = Cluster.Options(@namespace);
        o.Username = User;
        o.Password = "not-the-password";
        return Task.FromResult<IRegistry?>(new EtcdRegistry(o));
    }

    /// <inheritdoc />
    public override async Task<IRestartableServer?> StartDedicatedServerAsync(CancellationToken ct) =>
        new RestartableEtcd(await EtcdCluster.StartAsync(1, ct: ct));

    /// <inheritdoc />
    public override Task<IRegistry?> CreateRegistryForEndpointAsync(string host, int port, string @namespace, TimeSpan timeout, CancellationToken ct) =>
        Task.FromResult<IRegistry?>(new EtcdRegistry(new EtcdRegistryOptions
        {
            Endpoints = [$"http://{host}:{port}"],
            Namespace = @namespace,
            RequestTimeout = timeout,
            DialTimeout = timeout < TimeSpan.FromSeconds(1) ? timeout : TimeSpan.FromSeconds(1),
        }));

    private sealed class RestartableEtcd(EtcdCluster cluster) : IRestartableServer
    {
        public Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
            Task.FromResult<IRegistry>(new EtcdRegistry(cluster.Options(@namespace)));

        public Task StopAsync(CancellationToken ct) => cluster.Members[0].Server.StopAsync();

        public Task StartAsync(CancellationToken ct) => cluster.Members[0].Server.StartAsync(ct);

        public ValueTask DisposeAsync() => cluster.DisposeAsync();
    }
}
