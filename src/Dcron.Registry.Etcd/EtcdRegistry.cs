using System.Collections.Concurrent;
using System.Text;
using DistributedCron.Registry.Etcd.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.Etcd;

/// <summary>
/// An <see cref="IRegistry"/> on etcd v3 (3.4 or later), spoken through etcd's HTTP/JSON gateway. Node liveness is an
/// etcd lease per node (granted with the registration TTL, renewed by <see cref="HeartbeatAsync"/>), so a node that
/// stops heart-beating is removed by the server itself; claims, task adds and status changes are txn
/// compare-and-sets; watches are etcd watches resumed from the next revision after a broken stream.
/// </summary>
/// <remarks>
/// <para>Key layout under <c>/{Namespace}/</c>: <c>nodes/{id}</c>, <c>tasks/meta/{name}</c>,
/// <c>tasks/deleted/{name}</c>, <c>fires/{name}</c>; one key per node, task, tombstone and fire state. etcd keeps
/// older revisions of keys until it compacts; run etcd with <c>--auto-compaction-retention</c> (for example
/// <c>--auto-compaction-mode=revision --auto-compaction-retention=10000</c>) so its history stays bounded too.</para>
/// <para>etcd's smallest lease TTL is 2 s with default election settings; a shorter TTL is raised to it by the server
/// and TTLs are whole seconds (rounded up).</para>
/// <para>Disposing ends this instance's watches and closes its connections; nodes it registered stay until their
/// lease expires, as after a crash.</para>
/// </remarks>
public sealed partial class EtcdRegistry : IRegistry
{
    private readonly IEtcdClient _client;
    private readonly EtcdKeys _keys;
    private readonly EtcdRegistryOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, long> _leases = new(StringComparer.Ordinal);

    /// <summary>Per task, the fire-state key as this instance last saw it: the first guess of the next compare-and-set.</summary>
    private readonly ConcurrentDictionary<string, KeyValue> _fireHints = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Creates a registry; no connection is made until the first call.</summary>
    /// <param name="options">Endpoints, credentials, TLS, namespace and timeouts (copied; later changes have no effect).</param>
    /// <param name="logger">Logs failovers, watch reconnections and lease renewals; none when null.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it and the bad value).</exception>
    public EtcdRegistry(EtcdRegistryOptions options, ILogger<EtcdRegistry>? logger = null)
        : this(options, null, logger)
    {
    }

    /// <summary>Creates a registry over a given wire client (tests wrap the real one to inject faults).</summary>
    internal EtcdRegistry(EtcdRegistryOptions options, Func<EtcdRegistryOptions, ILogger, IEtcdClient>? client, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _logger = logger ?? NullLogger.Instance;
        _keys = new EtcdKeys(_options.Namespace);
        _client = client is null ? new EtcdHttpClient(_options, _logger) : client(_options, _logger);
    }

    /// <summary>The namespace this registry works in.</summary>
    public string Namespace => _options.Namespace;

    /// <summary>The etcd member requests currently go to (it changes on failover).</summary>
    public string CurrentEndpoint => _client.CurrentEndpoint;

    /// <summary>The wire client (tests reach it to check failover).</summary>
    internal IEtcdClient Client => _client;

    /// <summary>
    /// Called before a broken watch stream is re-opened (tests use it to change the server while no watch is open);
    /// null in production.
    /// </summary>
    internal Func<CancellationToken, Task>? BeforeWatchReconnect { get; set; }

    /// <inheritdoc />
    /// <remarks>
    /// Grants a lease of <paramref name="ttl"/> (whole seconds, rounded up; etcd raises it to at least 2 s), writes
    /// the node under it, and revokes the node's previous lease if this instance held one. A registration that
    /// already exists (for example a re-registration after the lease expired) is overwritten.
    /// </remarks>
    /// <exception cref="ArgumentException">The node id is empty or the TTL is not positive.</exception>
    public async Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ValidateNodeId(node.Id, nameof(node));
        if (ttl <= TimeSpan.Zero || ttl > TimeSpan.FromDays(365))
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A node TTL must be positive and at most a year.");
        }

        ThrowIfDisposed();
        var seconds = (long)Math.Ceiling(ttl.TotalSeconds);
        var grant = await _client.LeaseGrantAsync(seconds, ct).ConfigureAwait(false);
        if (grant.Id == 0 || grant.Ttl <= 0)
        {
            throw new RegistryException($"etcd at {_client.CurrentEndpoint} granted no usable lease for node '{node.Id}' (ID {grant.Id}, TTL {grant.Ttl}): {grant.Error}");
        }

        try
        {
            await _client.PutAsync(new PutRequest { Key = _keys.Node(node.Id), Value = Encode(node), Lease = grant.Id }, ct).ConfigureAwait(false);
        }
        catch
        {
            await RevokeQuietlyAsync(grant.Id, node.Id).ConfigureAwait(false);
            throw;
        }

        long previous = 0;
        _leases.AddOrUpdate(node.Id, grant.Id, (_, old) =>
        {
            previous = old;
            return grant.Id;
        });
        if (previous != 0 && previous != grant.Id)
        {
            // The key now belongs to the new lease; the old one holds nothing any more.
            await RevokeQuietlyAsync(previous, node.Id).ConfigureAwait(false);
        }

        EtcdLog.Registered(_logger, node.Id, grant.Id, grant.Ttl);
    }

    /// <inheritdoc />
    /// <remarks>Renews the node's lease once. etcd answers a renewal of an expired or revoked lease without a TTL,
    /// which this method reports as <see cref="NodeNotFoundException"/>.</remarks>
    public async Task HeartbeatAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        if (!_leases.TryGetValue(nodeId, out var lease))
        {
            // Registered by another instance (or this one lost track): use the lease the key is attached to.
            var kv = await GetKeyAsync(_keys.Node(nodeId), ct).ConfigureAwait(false);
            if (kv is null || kv.Lease == 0)
            {
                throw new NodeNotFoundException(nodeId);
            }

            lease = kv.Lease;
        }

        var answer = await _client.LeaseKeepAliveAsync(lease, ct).ConfigureAwait(false);
        if (answer.Ttl <= 0)
        {
            _leases.TryRemove(new KeyValuePair<string, long>(nodeId, lease));
            EtcdLog.LeaseGone(_logger, lease, nodeId);
            throw new NodeNotFoundException(nodeId);
        }
    }

    /// <inheritdoc />
    /// <remarks>A compare-and-set on the node's key that keeps its lease (the Go library's update detached the key
    /// from its lease, so a crashed node never expired). Writing the status it already has changes nothing.</remarks>
    public async Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown node status.");
        }

        ThrowIfDisposed();
        var key = _keys.Node(nodeId);
        var kv = await GetKeyAsync(key, ct).ConfigureAwait(false);
        while (true)
        {
            if (kv is null)
            {
                throw new NodeNotFoundException(nodeId);
            }

            var node = Decode<Node>(kv);
            if (node.Status == status)
            {
                return;
            }

            var txn = new TxnRequest
            {
                Compare = [Compare.ModifiedAt(key, kv.ModRevision)],
                Success = [RequestOp.Put(new PutRequest { Key = key, Value = Encode(node with { Status = status }), Lease = kv.Lease == 0 ? null : kv.Lease })],
                Failure = [RequestOp.Range(new RangeRequest { Key = key })],
            };
            var result = await _client.TxnAsync(txn, ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return;
            }

            kv = FirstKv(result);
        }
    }

    /// <inheritdoc />
    /// <remarks>Deletes the node's key and revokes its lease.</remarks>
    public async Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        var deleted = await _client.DeleteRangeAsync(new DeleteRangeRequest { Key = _keys.Node(nodeId), PrevKv = true }, ct).ConfigureAwait(false);
        var leases = new HashSet<long>();
        if (_leases.TryRemove(nodeId, out var mine))
        {
            leases.Add(mine);
        }

        foreach (var prev in deleted.PrevKvs)
        {
            if (prev.Lease != 0)
            {
                leases.Add(prev.Lease);
            }
        }

        foreach (var lease in leases)
        {
            await _client.LeaseRevokeAsync(lease, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        var (kvs, _) = await RangePrefixAsync(_keys.NodesPrefix, keysOnly: false, ct).ConfigureAwait(false);
        return SortNodes(kvs);
    }

    /// <summary>Ends this instance's watches and closes its connections (registered nodes stay until their lease expires).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        await _client.DisposeAsync().ConfigureAwait(false);
    }

    private Node[] SortNodes(List<KeyValue> kvs)
    {
        var nodes = kvs.Select(Decode<Node>).ToArray();
        Array.Sort(nodes, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return nodes;
    }

    /// <summary>One key, or null when it does not exist.</summary>
    private async Task<KeyValue?> GetKeyAsync(byte[] key, CancellationToken ct)
    {
        var r = await _client.RangeAsync(new RangeRequest { Key = key }, ct).ConfigureAwait(false);
        return r.Kvs.Count > 0 ? r.Kvs[0] : null;
    }

    /// <summary>
    /// Every key under <paramref name="prefix"/>, read in pages of 1,000 at one revision (a consistent snapshot), and
    /// that revision.
    /// </summary>
    private async Task<(List<KeyValue> Kvs, long Revision)> RangePrefixAsync(string prefix, bool keysOnly, CancellationToken ct)
    {
        const int page = 1000;
        var end = EtcdKeys.PrefixEnd(prefix);
        for (var attempt = 1; ; attempt++)
        {
            var all = new List<KeyValue>();
            var from = EtcdKeys.Bytes(prefix);
            long revision = 0;
            try
            {
                while (true)
                {
                    var r = await _client.RangeAsync(new RangeRequest
                    {
                        Key = from,
                        RangeEnd = end,
                        Limit = page,
                        Revision = revision == 0 ? null : revision,
                        KeysOnly = keysOnly ? true : null,
                    }, ct).ConfigureAwait(false);
                    if (revision == 0)
                    {
                        revision = r.Header.Revision;
                    }

                    all.AddRange(r.Kvs);
                    if (!r.More || r.Kvs.Count == 0)
                    {
                        return (all, revision);
                    }

                    from = [.. r.Kvs[^1].Key, 0]; // the next key after the last one read
                }
            }
            catch (EtcdException ex) when (ex.GrpcCode == 11 && attempt < 3)
            {
                // The pinned revision was compacted between two pages: read again at a new one.
            }
        }
    }

    private async Task RevokeQuietlyAsync(long lease, string nodeId)
    {
        try
        {
            using var cts = new CancellationTokenSource(_options.RequestTimeout);
            await _client.LeaseRevokeAsync(lease, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RegistryException or OperationCanceledException)
        {
            // Not fatal: an unused lease expires by itself after its TTL.
            EtcdLog.RevokeFailed(_logger, ex, lease, nodeId);
        }
    }

    private static KeyValue? FirstKv(TxnResponse failed) =>
        failed.Responses.Count > 0 && failed.Responses[0].ResponseRange is { Kvs.Count: > 0 } range ? range.Kvs[0] : null;

    private static byte[] Encode<T>(T value) => Encoding.UTF8.GetBytes(RegistryJson.Serialize(value));

    private static T Decode<T>(KeyValue kv) => RegistryJson.Deserialize<T>(Encoding.UTF8.GetString(kv.Value));

    private static void ValidateNodeId(string? nodeId, string paramName)
    {
        if (string.IsNullOrWhiteSpace(nodeId))
        {
            throw new ArgumentException($"Illegal node id '{nodeId}': it must not be empty.", paramName);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
}
