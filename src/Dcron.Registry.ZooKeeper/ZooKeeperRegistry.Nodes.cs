using DistributedCron.Registry.ZooKeeper.Client;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.ZooKeeper;

public sealed partial class ZooKeeperRegistry
{
    private readonly Dictionary<string, NodeSession> _nodeSessions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _nodesLock = new(1, 1);

    /// <inheritdoc />
    /// <remarks>
    /// The node's ephemeral znode is owned by a session of its own with timeout <paramref name="ttl"/> (the server
    /// clamps it to its [minSessionTimeout, maxSessionTimeout]; the negotiated value is logged when it differs).
    /// That session does not ping by itself: <see cref="HeartbeatAsync"/> keeps it alive, so a node whose heartbeats
    /// stop is removed by the server one TTL (plus at most one tickTime) later. A leftover znode of the same id from
    /// an older session is replaced.
    /// </remarks>
    /// <exception cref="ArgumentException">The node id is empty or the TTL is not positive.</exception>
    public Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ValidateNodeId(node.Id, nameof(node));
        if (ttl <= TimeSpan.Zero || ttl > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A node TTL must be positive and at most one hour.");
        }

        return RunAsync(async c =>
        {
            await _nodesLock.WaitAsync(c).ConfigureAwait(false);
            try
            {
                await RegisterCoreAsync(node, ttl, c).ConfigureAwait(false);
            }
            finally
            {
                _nodesLock.Release();
            }
        }, ct);
    }

    /// <inheritdoc />
    /// <remarks>One round trip on the node's session (which resets the server's session timer) that also checks that
    /// the znode still exists and belongs to that session.</remarks>
    public Task HeartbeatAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        return RunAsync(async c =>
        {
            var s = Session(nodeId) ?? throw new NodeNotFoundException(nodeId);
            ZkStat? stat;
            try
            {
                stat = await s.Client.ExistsAsync(s.Path, false, c).ConfigureAwait(false);
            }
            catch (ZkSessionExpiredException)
            {
                await DropSessionAsync(s).ConfigureAwait(false);
                throw new NodeNotFoundException(nodeId);
            }

            if (stat is null || stat.EphemeralOwner != s.Client.SessionId)
            {
                throw new NodeNotFoundException(nodeId);
            }
        }, ct);
    }

    /// <inheritdoc />
    public Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown node status.");
        }

        return RunAsync(async c =>
        {
            var s = Session(nodeId);
            IZkClient client = s?.Client ?? _client;
            var path = _paths.Node(nodeId);
            try
            {
                while (true)
                {
                    var got = await client.GetDataAsync(path, false, c).ConfigureAwait(false);
                    if (got is not { } current || (s is not null && current.Stat.EphemeralOwner != s.Client.SessionId))
                    {
                        throw new NodeNotFoundException(nodeId);
                    }

                    var node = RegistryJson.Deserialize<Node>(Utf8(current.Data));
                    if (node.Status == status)
                    {
                        return;
                    }

                    try
                    {
                        await client.SetDataAsync(path, Utf8(RegistryJson.Serialize(node with { Status = status })), current.Stat.Version, c)
                            .ConfigureAwait(false);
                        return;
                    }
                    catch (ZkErrorException ex) when (ex.Code == ZkError.BadVersion)
                    {
                        // changed concurrently: read again
                    }
                    catch (ZkErrorException ex) when (ex.Code == ZkError.NoNode)
                    {
                        throw new NodeNotFoundException(nodeId);
                    }
                }
            }
            catch (ZkSessionExpiredException) when (s is not null)
            {
                await DropSessionAsync(s).ConfigureAwait(false);
                throw new NodeNotFoundException(nodeId);
            }
        }, ct);
    }

    /// <inheritdoc />
    /// <remarks>Deletes the znode and closes the node's session.</remarks>
    public Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        return RunAsync(async c =>
        {
            NodeSession? s;
            lock (_gate)
            {
                if (_nodeSessions.Remove(nodeId, out s))
                {
                    // removed: further heartbeats fail
                }
            }

            var path = _paths.Node(nodeId);
            try
            {
                await (s is null || s.Client.IsExpired ? _client : s.Client).DeleteAsync(path, -1, c).ConfigureAwait(false);
            }
            catch (Exception ex) when (Is(ex, ZkError.NoNode) || ex is ZkSessionExpiredException)
            {
                // already gone
            }
            finally
            {
                if (s is not null)
                {
                    await s.Client.DisposeAsync().ConfigureAwait(false);
                }
            }
        }, ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default) => RunAsync<IReadOnlyList<Node>>(async c =>
    {
        var entries = await ReadDirectoryAsync(_paths.Nodes, watch: false, c).ConfigureAwait(false);
        return entries.Values
            .Select(e => RegistryJson.Deserialize<Node>(Utf8(e.Data)))
            .OrderBy(n => n.Id, StringComparer.Ordinal)
            .ToArray();
    }, ct);

    private async Task RegisterCoreAsync(Node node, TimeSpan ttl, CancellationToken ct)
    {
        var s = Session(node.Id);
        if (s is not null && (s.Client.IsExpired || s.Ttl != ttl))
        {
            await DropSessionAsync(s).ConfigureAwait(false);
            s = null;
        }

        if (s is null)
        {
            var client = new ZkClient(ClientOptions(ttl, autoPing: false, renew: false, "node " + node.Id), _logger);
            try
            {
                await client.ConnectAsync(ct).ConfigureAwait(false);
            }
            catch
            {
                await client.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (Math.Abs((client.NegotiatedTimeout - ttl).TotalMilliseconds) >= 1)
            {
                Log.TtlClamped(_logger, node.Id, ttl.TotalMilliseconds, client.NegotiatedTimeout.TotalMilliseconds);
            }

            s = new NodeSession(node.Id, _paths.Node(node.Id), ttl, client);
            bool disposed;
            lock (_gate)
            {
                disposed = _isDisposed;
                if (!disposed)
                {
                    _nodeSessions[node.Id] = s;
                }
            }

            if (disposed)
            {
                // DisposeAsync ran meanwhile and closed the sessions it knew of: close this one too.
                await client.DisposeAsync().ConfigureAwait(false);
                throw new ObjectDisposedException(nameof(ZooKeeperRegistry));
            }
        }

        var data = Utf8(RegistryJson.Serialize(node));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await s.Client.CreateAsync(s.Path, data, _acl, ZkCreateMode.Ephemeral, ct).ConfigureAwait(false);
                return;
            }
            catch (ZkErrorException ex) when (ex.Code == ZkError.NodeExists && attempt < 10)
            {
                var stat = await s.Client.ExistsAsync(s.Path, false, ct).ConfigureAwait(false);
                if (stat is null)
                {
                    continue;
                }

                try
                {
                    if (stat.EphemeralOwner == s.Client.SessionId)
                    {
                        await s.Client.SetDataAsync(s.Path, data, stat.Version, ct).ConfigureAwait(false);
                        return;
                    }

                    Log.ReplacingStale(_logger, node.Id, stat.EphemeralOwner);
                    await s.Client.DeleteAsync(s.Path, stat.Version, ct).ConfigureAwait(false);
                }
                catch (ZkErrorException e) when (e.Code is ZkError.NoNode or ZkError.BadVersion)
                {
                    // changed meanwhile: try again
                }
            }
            catch (ZkErrorException ex) when (ex.Code == ZkError.NoNode)
            {
                throw new LayoutMissingException(_paths.Nodes);
            }
            catch (ZkSessionExpiredException)
            {
                // expired while registering: a fresh session next time
                await DropSessionAsync(s).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>The session client of a node registered through this registry (tests), or null.</summary>
    internal ZkClient? NodeClient(string nodeId) => Session(nodeId)?.Client;

    private NodeSession? Session(string nodeId)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_isDisposed, this);
            return _nodeSessions.GetValueOrDefault(nodeId);
        }
    }

    private async Task DropSessionAsync(NodeSession s)
    {
        lock (_gate)
        {
            if (_nodeSessions.TryGetValue(s.NodeId, out var cur) && ReferenceEquals(cur, s))
            {
                _nodeSessions.Remove(s.NodeId);
            }
        }

        await s.Client.DisposeAsync().ConfigureAwait(false);
    }

    private static void ValidateNodeId(string? nodeId, string paramName)
    {
        if (string.IsNullOrWhiteSpace(nodeId) || nodeId.Length > 500)
        {
            throw new ArgumentException($"Illegal node id '{nodeId}': it must not be empty and at most 500 characters.", paramName);
        }
    }

    /// <summary>A registered node: its znode and the session that owns it.</summary>
    private sealed record NodeSession(string NodeId, string Path, TimeSpan Ttl, ZkClient Client);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4120, Level = LogLevel.Warning, Message = "ZooKeeper: node {NodeId} asked for TTL {RequestedMs} ms; the server's session timeout limits gave {NegotiatedMs} ms")]
        public static partial void TtlClamped(ILogger logger, string nodeId, double requestedMs, double negotiatedMs);

        [LoggerMessage(EventId = 4121, Level = LogLevel.Information, Message = "ZooKeeper: replacing the znode of node {NodeId} left by session 0x{Owner:x}")]
        public static partial void ReplacingStale(ILogger logger, string nodeId, long owner);

        [LoggerMessage(EventId = 4123, Level = LogLevel.Error, Message = "ZooKeeper watch of {Path}: skipping znode {Name} with a corrupt document: {Reason}")]
        public static partial void CorruptEntry(ILogger logger, string path, string name, string reason);
    }
}
