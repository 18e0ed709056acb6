using DistributedCron.Bench;
using DistributedCron.Registry.Consul;
using DistributedCron.Registry.Etcd;
using DistributedCron.Registry.Redis;
using DistributedCron.Registry.ZooKeeper;
using DistributedCron.Testing;
using DistributedCron.Testing.Consul;
using StackExchange.Redis;

namespace DistributedCron.Benchmarks;

/// <summary>The registries the claim benchmarks compare.</summary>
public enum Backend
{
    /// <summary><see cref="InMemoryRegistry"/>: no server, no wire; the floor.</summary>
    InMemory,

    /// <summary>redis-server, append-only file with <c>appendfsync everysec</c> (as the chaos run uses it).</summary>
    Redis,

    /// <summary>A one-member etcd with its data directory on disk (/tmp): every write waits for the WAL fsync.</summary>
    Etcd,

    /// <summary>The same etcd with its data directory on tmpfs (/dev/shm): fsync costs next to nothing.</summary>
    EtcdTmpfs,

    /// <summary>A standalone ZooKeeper 3.8 (java), <c>forceSync=no</c> (as the chaos run uses it).</summary>
    ZooKeeper,

    /// <summary>The Consul emulator of tests/ConsulEmulator, in this process (Kestrel on loopback).</summary>
    ConsulEmulator,
}

/// <summary>
/// One registry server for a benchmark: started on a free 127.0.0.1 port (external servers through
/// <see cref="ExternalServer"/>, which stops them by their own PID), and clients of it in any namespace.
/// </summary>
public sealed class BenchBackend : IAsyncDisposable
{
    private readonly Backend _backend;
    private readonly ExternalServer? _server;
    private readonly ConsulEmulatorServer? _emulator;
    private readonly InMemoryStore? _store;
    private readonly string _connect;

    private BenchBackend(Backend backend, ExternalServer? server, ConsulEmulatorServer? emulator, InMemoryStore? store, string connect)
    {
        _backend = backend;
        _server = server;
        _emulator = emulator;
        _store = store;
        _connect = connect;
    }

    /// <summary>The PID of the external server process, or null (in-memory, emulator).</summary>
    public int? Pid => _server?.Pid;

    /// <summary>Where clients connect ("127.0.0.1:port" or a URL; "" for in-memory).</summary>
    public string Connect => _connect;

    /// <summary>Starts the server of <paramref name="backend"/> and waits until it answers.</summary>
    public static async Task<BenchBackend> StartAsync(Backend backend, CancellationToken ct)
    {
        switch (backend)
        {
            case Backend.InMemory:
                return new BenchBackend(backend, null, null, new InMemoryStore(), "");
            case Backend.ConsulEmulator:
            {
                var emulator = await ConsulEmulatorServer.StartAsync(new ConsulEmulatorOptions { Port = FreePort.Next() }, ct).ConfigureAwait(false);
                return new BenchBackend(backend, null, emulator, null, emulator.Address);
            }

            default:
            {
                var (server, connect) = Describe(backend);
                try
                {
                    await server.StartAsync(ct).ConfigureAwait(false);
                }
                catch
                {
                    await server.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                return new BenchBackend(backend, server, null, null, connect);
            }
        }
    }

    /// <summary>A new client of the server working in <paramref name="namespace"/>.</summary>
    public async Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct)
    {
        switch (_backend)
        {
            case Backend.InMemory:
                return new InMemoryRegistry(_store!, @namespace);
            case Backend.Redis:
            {
                var o = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 5000, SyncTimeout = 5000, ClientName = "dcron-bench" };
                o.EndPoints.Add(_connect);
                var mux = await ConnectionMultiplexer.ConnectAsync(o).WaitAsync(ct).ConfigureAwait(false);
                return new RedisRegistry(mux, new RedisRegistryOptions { Namespace = @namespace, DisposeMultiplexer = true });
            }

            case Backend.Etcd:
            case Backend.EtcdTmpfs:
                return new EtcdRegistry(new EtcdRegistryOptions { Endpoints = [_connect], Namespace = @namespace });
            case Backend.ZooKeeper:
                return new ZooKeeperRegistry(new ZooKeeperRegistryOptions { ConnectString = _connect, Namespace = @namespace });
            case Backend.ConsulEmulator:
                return new ConsulRegistry(new ConsulRegistryOptions { Address = _connect, Namespace = @namespace });
            default:
                throw new ArgumentOutOfRangeException(nameof(_backend), _backend, "Unknown backend.");
        }
    }

    /// <summary>Stops the server (SIGTERM to its PID, then SIGKILL after 10 s) and removes its data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static (ExternalServer Server, string Connect) Describe(Backend backend) => backend switch
    {
        Backend.Redis => LocalServers.Redis("bench"),
        Backend.Etcd => LocalServers.Etcd(ExternalServer.NewWorkDir("bench-etcd")),
        Backend.EtcdTmpfs => LocalServers.Etcd(Path.Combine("/dev/shm", "dcron-bench-etcd-" + Guid.NewGuid().ToString("N")[..12])),
        Backend.ZooKeeper => LocalServers.ZooKeeper("bench"),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Not an external server."),
    };
}
