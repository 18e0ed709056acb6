using System.Collections.Concurrent;
using System.Text;
using DistributedCron.Registry.Consul.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.Consul;

/// <summary>
/// An <see cref="IRegistry"/> on Consul's HTTP API. Node liveness is a Consul session per node (TTL, Behavior=delete,
/// LockDelay 0) that holds the node's key as a lock, and every heartbeat also rewrites that key, so watchers drop a
/// node whose key stopped changing for its TTL, and Consul itself deletes the key when the session expires (the
/// backstop); claims and status changes are KV compare-and-sets on ModifyIndex; task adds are <c>/v1/txn</c>
/// transactions; watches are blocking queries on the namespace's prefixes, resumed by index.
/// </summary>
/// <remarks>
/// <para>Key layout under <c>{Namespace}/</c>: <c>nodes/{id}</c>, <c>tasks/meta/{name}</c>, <c>tasks/deleted/{name}</c>,
/// <c>fires/{name}</c>; one key per node, task, tombstone and fire state, plus one session per live node.</para>
/// <para><b>Failover.</b> Consul refuses session TTLs below its <c>session_ttl_min</c> (10 s by default), so the session
/// of a node TTL below <see cref="ConsulRegistryOptions.MinSessionTtl"/> is raised to it, and Consul reaps an
/// unrenewed session only after TTL × 2. Liveness therefore does not wait for the session: each registry instance
/// times, on its own monotonic clock (<see cref="ConsulRegistryOptions.TimeProvider"/>), how long each node key has
/// gone unchanged, and its watches and <see cref="GetNodesAsync"/> leave out a node silent for longer than the TTL it
/// registered with. A crashed node thus leaves the view about its TTL after its last heartbeat as this instance saw
/// it (a watcher that starts, or reconnects, gives every node a full TTL first); its missed fires are caught up then
/// (within <c>MisfireGrace</c>). The session deletes the key after 2 × its TTL in any case.</para>
/// <para>Disposing ends this instance's watches and closes its connections; nodes it registered stay until their
/// session expires, as after a crash.</para>
/// </remarks>
public sealed partial class ConsulRegistry : IRegistry
{
    private readonly IConsulClient _client;
    private readonly ConsulKeys _keys;
    private readonly ConsulRegistryOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, NodeLease> _leases = new(StringComparer.Ordinal);
    private readonly ConsulNodeLiveness _liveness;
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Creates a registry; no connection is made until the first call.</summary>
    /// <param name="options">Address, token, datacenter, TLS, namespace and timeouts (copied; later changes have no effect).</param>
    /// <param name="logger">Logs session changes, watch interruptions and raised TTLs; none when null.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it and the bad value).</exception>
    public ConsulRegistry(ConsulRegistryOptions options, ILogger<ConsulRegistry>? logger = null)
        : this(options, null, logger)
    {
    }

    /// <summary>Creates a registry over a given wire client (tests wrap the real one).</summary>
    internal ConsulRegistry(ConsulRegistryOptions options, Func<ConsulRegistryOptions, ILogger, IConsulClient>? client, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _logger = logger ?? NullLogger.Instance;
        _keys = new ConsulKeys(_options.Namespace);
        _client = client is null ? new ConsulHttpClient(_options, _logger) : client(_options, _logger);
        _liveness = new ConsulNodeLiveness(_options.TimeProvider, _logger);
    }

    /// <summary>The namespace this registry works in.</summary>
    public string Namespace => _options.Namespace;

    /// <summary>The Consul agent's address.</summary>
    public string Address => _client.Address;

    /// <summary>The session TTL a node registered with <paramref name="requested"/> gets (raised to <see cref="ConsulRegistryOptions.MinSessionTtl"/>, whole seconds).</summary>
    public TimeSpan EffectiveSessionTtl(TimeSpan requested) =>
        TimeSpan.FromSeconds(Math.Ceiling((requested < _options.MinSessionTtl ? _options.MinSessionTtl : requested).TotalSeconds));

    /// <summary>The wire client (tests reach it).</summary>
    internal IConsulClient Client => _client;

    /// <summary>The key layout (tests reach it).</summary>
    internal ConsulKeys Keys => _keys;

    /// <summary>Ends this instance's watches and closes its connections (registered nodes stay until their session expires).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        await _client.DisposeAsync().ConfigureAwait(false);
    }

    private async Task DestroyQuietlyAsync(string session, string nodeId)
    {
        try
        {
            using var cts = new CancellationTokenSource(_options.RequestTimeout);
            await _client.DestroySessionAsync(session, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RegistryException or OperationCanceledException or ObjectDisposedException)
        {
            // Not fatal: an unused session expires by itself after its TTL.
            ConsulLog.DestroyFailed(_logger, ex, session, nodeId);
        }
    }

    private static byte[] Encode<T>(T value) => Encoding.UTF8.GetBytes(RegistryJson.Serialize(value));

    private static T Decode<T>(KvEntry e) => RegistryJson.Deserialize<T>(Encoding.UTF8.GetString(e.Value ?? []));

    private static void ValidateNodeId(string? nodeId, string paramName)
    {
        if (string.IsNullOrWhiteSpace(nodeId))
        {
            throw new ArgumentException($"Illegal node id '{nodeId}': it must not be empty.", paramName);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
}
