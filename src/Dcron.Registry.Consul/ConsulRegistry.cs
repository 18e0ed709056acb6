using System.Collections.Concurrent;
using System.Text;
using DistributedCron.Registry.Consul.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.Consul;

/// <summary>
/// An <see cref="IRegistry"/> on Consul's HTTP API. Node liveness is a Consul session per node (TTL, Behavior=delete,
/// LockDelay 0) that holds the node's key as a lock, so when a node stops renewing, Consul itself invalidates the
/// session and deletes the key; claims and status changes are KV compare-and-sets on ModifyIndex; task adds are
/// <c>/v1/txn</c> transactions; watches are blocking queries on the namespace's prefixes, resumed by index.
/// </summary>
/// <remarks>
/// <para>Key layout under <c>{Namespace}/</c>: <c>nodes/{id}</c>, <c>tasks/meta/{name}</c>, <c>tasks/deleted/{name}</c>,
/// <c>fires/{name}</c>; one key per node, task, tombstone and fire state, plus one session per live node.</para>
/// <para><b>Slower failover than the other backends.</b> Consul refuses session TTLs below its <c>session_ttl_min</c>
/// (10 s by default), so a node TTL below <see cref="ConsulRegistryOptions.MinSessionTtl"/> is raised to it, and
/// Consul reaps an unrenewed session only after TTL × 2 (its timer; the documented promise is "not before the TTL").
/// A crashed node therefore leaves the view 10–20 s after its last heartbeat with the defaults, and its missed fires
/// are caught up then (within <c>MisfireGrace</c>).</para>
/// <para>Disposing ends this instance's watches and closes its connections; nodes it registered stay until their
/// session expires, as after a crash.</para>
/// </remarks>
public sealed partial class ConsulRegistry : IRegistry
{
    private readonly IConsulClient _client;
    private readonly ConsulKeys _keys;
    private readonly ConsulRegistryOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, string> _sessions = new(StringComparer.Ordinal);
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

    /// <inheritdoc />
    /// <remarks>
    /// Creates a session (TTL = <paramref name="ttl"/> raised to <see cref="ConsulRegistryOptions.MinSessionTtl"/>,
    /// whole seconds; Behavior=delete; LockDelay 0 so a re-registration is never blocked; no health checks) and
    /// acquires the node's key with it. If the key is still held by an earlier session of the same node id (a
    /// restart before the old session expired), that session is destroyed first. This instance's previous session
    /// for the node, if any, is destroyed afterwards.
    /// </remarks>
    /// <exception cref="ArgumentException">The node id is empty or the TTL is not positive or above 24 h (Consul's maximum).</exception>
    public async Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ValidateNodeId(node.Id, nameof(node));
        if (ttl <= TimeSpan.Zero || ttl > TimeSpan.FromHours(24))
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A node TTL must be positive and at most 24 h (Consul's session TTL maximum).");
        }

        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var effective = EffectiveSessionTtl(ttl);
        if (ttl < _options.MinSessionTtl)
        {
            ConsulLog.TtlRaised(_logger, ttl, _options.MinSessionTtl, node.Id);
        }

        var key = _keys.Node(node.Id);
        var session = await _client.CreateSessionAsync(new SessionCreateRequest
        {
            Name = key,
            Behavior = "delete",
            LockDelay = "0s",
            TTL = ConsulRegistryOptions.TtlString(effective),
            Checks = [],
            NodeChecks = [],
        }, ct).ConfigureAwait(false);
        try
        {
            await AcquireNodeKeyAsync(key, session, Encode(node), node.Id, ct).ConfigureAwait(false);
        }
        catch
        {
            await DestroyQuietlyAsync(session, node.Id).ConfigureAwait(false);
            throw;
        }

        string? previous = null;
        _sessions.AddOrUpdate(node.Id, session, (_, old) =>
        {
            previous = old;
            return session;
        });
        if (previous is not null && previous != session)
        {
            await DestroyQuietlyAsync(previous, node.Id).ConfigureAwait(false);
        }

        ConsulLog.Registered(_logger, node.Id, session, ConsulRegistryOptions.TtlString(effective));
    }

    /// <inheritdoc />
    /// <remarks>Renews the node's session once (<c>PUT /v1/session/renew</c>); Consul's 404 for a session that expired
    /// or was destroyed is reported as <see cref="NodeNotFoundException"/>.</remarks>
    public async Task HeartbeatAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        if (!_sessions.TryGetValue(nodeId, out var session))
        {
            // Registered by another instance (or this one lost track): use the session holding the key.
            session = (await _client.GetAsync(_keys.Node(nodeId), ct).ConfigureAwait(false))?.Session
                ?? throw new NodeNotFoundException(nodeId);
        }

        if (await _client.RenewSessionAsync(session, ct).ConfigureAwait(false) is null)
        {
            _sessions.TryRemove(new KeyValuePair<string, string>(nodeId, session));
            ConsulLog.SessionGone(_logger, session, nodeId);
            throw new NodeNotFoundException(nodeId);
        }
    }

    /// <inheritdoc />
    /// <remarks>A compare-and-set (<c>?cas=ModifyIndex</c>) on the node's key, which keeps the key's session (the lock);
    /// a key without a live session counts as not registered. Writing the status it already has changes nothing.</remarks>
    public async Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown node status.");
        }

        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var key = _keys.Node(nodeId);
        while (true)
        {
            var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
            if (entry?.Session is null)
            {
                throw new NodeNotFoundException(nodeId);
            }

            var node = Decode<Node>(entry);
            if (node.Status == status)
            {
                return;
            }

            if (await _client.PutAsync(key, Encode(node with { Status = status }), KvWrite.CheckAndSet(entry.ModifyIndex), ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Destroys the node's session, which deletes its key (Behavior=delete); a key left without a session is
    /// deleted with a compare-and-set.</remarks>
    public async Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var key = _keys.Node(nodeId);
        var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
        var sessions = new HashSet<string>(StringComparer.Ordinal);
        if (_sessions.TryRemove(nodeId, out var mine))
        {
            sessions.Add(mine);
        }

        if (entry?.Session is { } holder)
        {
            sessions.Add(holder);
        }

        foreach (var s in sessions)
        {
            await _client.DestroySessionAsync(s, ct).ConfigureAwait(false);
        }

        if (entry is { Session: null })
        {
            await _client.DeleteAsync(key, entry.ModifyIndex, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var list = await _client.ListAsync(_keys.NodesPrefix, 0, null, ct).ConfigureAwait(false);
        return DecodeNodes(list.Entries, skipUnreadable: false).Values.OrderBy(n => n.Id, StringComparer.Ordinal).ToArray();
    }

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

    /// <summary>Acquires the node's key with <paramref name="session"/>, taking it over from an earlier session of the same node.</summary>
    private async Task AcquireNodeKeyAsync(string key, string session, byte[] value, string nodeId, CancellationToken ct)
    {
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            if (await _client.PutAsync(key, value, KvWrite.AcquireWith(session), ct).ConfigureAwait(false))
            {
                return;
            }

            var held = await _client.GetAsync(key, ct).ConfigureAwait(false);
            if (held?.Session is { } other && other != session)
            {
                ConsulLog.TakingOver(_logger, nodeId, other);
                await _client.DestroySessionAsync(other, ct).ConfigureAwait(false); // deletes the key (Behavior=delete)
            }
            else if (held is { Session: null })
            {
                await _client.DeleteAsync(key, held.ModifyIndex, ct).ConfigureAwait(false);
            }
        }

        throw new RegistryException($"Consul at {_client.Address} did not let session {session} acquire '{key}' for node '{nodeId}' after 5 attempts (a lock-delay on the key, or another registration of the same node id racing this one).");
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

    /// <summary>The live nodes among <paramref name="entries"/> (keys held by a session) by key.</summary>
    private Dictionary<string, Node> DecodeNodes(IEnumerable<KvEntry> entries, bool skipUnreadable)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Session is null || ConsulKeys.Tail(e.Key, _keys.NodesPrefix) is null)
            {
                continue;
            }

            try
            {
                nodes[e.Key] = Decode<Node>(e);
            }
            catch (RegistryException ex) when (skipUnreadable)
            {
                ConsulLog.SkippedRecord(_logger, ex, e.Key, _keys.NodesPrefix);
            }
        }

        return nodes;
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
