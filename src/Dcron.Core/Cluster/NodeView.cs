namespace DistributedCron;

/// <summary>
/// The node's view of the membership: the node watch folded (a snapshot replaces it) and confirmed by a full read
/// every heartbeat. Every member runs under the engine's gate.
/// </summary>
internal sealed class NodeView
{
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private Node[]? _all;
    private Node[]? _working;

    /// <summary>Bumped when any node appears, disappears or changes.</summary>
    public long Version { get; private set; }

    /// <summary>Bumped only when the working set (ids and weights) changes: what assignment depends on.</summary>
    public long WorkingVersion { get; private set; }

    public bool Contains(string nodeId) => _nodes.ContainsKey(nodeId);

    public Node? Get(string nodeId) => _nodes.GetValueOrDefault(nodeId);

    /// <summary>All nodes, sorted by id.</summary>
    public IReadOnlyList<Node> All => _all ??= _nodes.Values.OrderBy(n => n.Id, StringComparer.Ordinal).ToArray();

    /// <summary>Working nodes, sorted by id.</summary>
    public IReadOnlyList<Node> Working => _working ??= All.Where(n => n.Status == NodeStatus.Working).ToArray();

    /// <summary>Folds one watch event; true when the view changed.</summary>
    public bool Apply(NodeEvent e) => e.Kind switch
    {
        NodeEventKind.Snapshot => Replace(e.Nodes),
        NodeEventKind.Upserted when e.Node is not null => Upsert(e.Node),
        NodeEventKind.Removed => Remove(e.NodeId),
        _ => false,
    };

    public bool Upsert(Node node)
    {
        if (_nodes.TryGetValue(node.Id, out var old) && Same(old, node))
        {
            return false;
        }

        var workingChanged = old is null
            ? node.Status == NodeStatus.Working
            : (old.Status == NodeStatus.Working) != (node.Status == NodeStatus.Working)
              || (node.Status == NodeStatus.Working && old.Weight != node.Weight);
        _nodes[node.Id] = node;
        Changed(workingChanged);
        return true;
    }

    public bool Remove(string nodeId)
    {
        if (!_nodes.Remove(nodeId, out var old))
        {
            return false;
        }

        Changed(old.Status == NodeStatus.Working);
        return true;
    }

    /// <summary>Replaces the view by a full read; true when it changed.</summary>
    public bool Replace(IReadOnlyList<Node> nodes)
    {
        var same = nodes.Count == _nodes.Count;
        if (same)
        {
            foreach (var n in nodes)
            {
                if (!_nodes.TryGetValue(n.Id, out var old) || !Same(old, n))
                {
                    same = false;
                    break;
                }
            }
        }

        if (same)
        {
            return false;
        }

        var before = WorkingKey(Working);
        _nodes.Clear();
        foreach (var n in nodes)
        {
            _nodes[n.Id] = n;
        }

        _all = null;
        _working = null;
        Changed(before != WorkingKey(Working));
        return true;
    }

    private static bool Same(Node a, Node b) =>
        a.Status == b.Status && a.Weight == b.Weight && a.Ip == b.Ip && a.Hostname == b.Hostname;

    private static string WorkingKey(IReadOnlyList<Node> working) =>
        string.Join(',', working.Select(n => n.Id + ":" + n.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private void Changed(bool workingChanged)
    {
        _all = null;
        _working = null;
        Version++;
        if (workingChanged)
        {
            WorkingVersion++;
        }
    }
}
