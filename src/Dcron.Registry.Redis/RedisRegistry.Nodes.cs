using System.Runtime.CompilerServices;
using DistributedCron.Registry.Redis.Lua;
using DistributedCron.Registry.Redis.Watch;
using StackExchange.Redis;

namespace DistributedCron.Registry.Redis;

public sealed partial class RedisRegistry
{
    /// <inheritdoc />
    public async Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        RequireId(node.Id, nameof(node));
        if (ttl < TimeSpan.FromMilliseconds(1) || ttl > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, $"The TTL of node '{node.Id}' must be between 1 ms and one day.");
        }

        await EvalAsync($"register node '{node.Id}'", NodeScripts.Register, _keys.NodeKeys,
            [_keys.NodeChannelPublished, node.Id, RegistryJson.Serialize(node), (long)Math.Ceiling(ttl.TotalMilliseconds)], ct)
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task HeartbeatAsync(string nodeId, CancellationToken ct = default)
    {
        RequireId(nodeId, nameof(nodeId));
        var r = await EvalAsync($"heartbeat of node '{nodeId}'", NodeScripts.Heartbeat, _keys.NodeKeys,
            [_keys.NodeChannelPublished, nodeId], ct).ConfigureAwait(false);
        if ((long)r == 0)
        {
            throw new NodeNotFoundException(nodeId);
        }
    }

    /// <inheritdoc />
    public async Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default)
    {
        RequireId(nodeId, nameof(nodeId));
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown node status.");
        }

        var r = await EvalAsync($"status update of node '{nodeId}'", NodeScripts.UpdateStatus, _keys.NodeKeys,
            [_keys.NodeChannelPublished, nodeId, RegistryJson.Serialize(status).Trim('"')], ct).ConfigureAwait(false);
        if ((long)r == 0)
        {
            throw new NodeNotFoundException(nodeId);
        }
    }

    /// <inheritdoc />
    public async Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default)
    {
        RequireId(nodeId, nameof(nodeId));
        await EvalAsync($"unregister node '{nodeId}'", NodeScripts.Unregister, _keys.NodeKeys,
            [_keys.NodeChannelPublished, nodeId], ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default) =>
        (await ReadNodesAsync(ct).ConfigureAwait(false)).Nodes;

    /// <inheritdoc />
    public async IAsyncEnumerable<NodeEvent> WatchNodesAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var watch = NewWatch<NodeEvent>(_keys.NodeChannel,
            async c =>
            {
                var (rev, nodes) = await ReadNodesAsync(c).ConfigureAwait(false);
                return (rev, NodeEvent.Snapshot(nodes));
            },
            async c => (long)await EvalAsync("node reap", NodeScripts.ReapAndRevision, _keys.NodeKeys, [_keys.NodeChannelPublished], c)
                .ConfigureAwait(false),
            DecodeNodeMessage);
        await foreach (var e in watch.RunAsync(ct, DisposedToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    private async Task<(long Revision, IReadOnlyList<Node> Nodes)> ReadNodesAsync(CancellationToken ct)
    {
        var r = Array(await EvalAsync("read nodes", NodeScripts.Read, _keys.NodeKeys, [_keys.NodeChannelPublished], ct)
            .ConfigureAwait(false), "read nodes");
        var nodes = Strings(r[1], "node documents").Select(RegistryJson.Deserialize<Node>)
            .OrderBy(n => n.Id, StringComparer.Ordinal).ToArray();
        return ((long)r[0], nodes);
    }

    private static NodeEvent? DecodeNodeMessage(WatchMessage m) => m.Kind switch
    {
        "u" => NodeEvent.Upserted(RegistryJson.Deserialize<Node>(m.Data ?? throw new RegistryException($"Node message without a document: {m.Id}"))),
        "r" => NodeEvent.Removed(m.Id),
        _ => throw new RegistryException($"Unknown node message kind '{m.Kind}'."),
    };
}
