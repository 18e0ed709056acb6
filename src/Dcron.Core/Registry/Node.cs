namespace DistributedCron;

/// <summary>The lifecycle status of a node. Only <see cref="Working"/> nodes are assigned tasks.</summary>
public enum NodeStatus
{
    /// <summary>Registered, still loading its first view.</summary>
    Starting = 0,

    /// <summary>Running its assigned tasks.</summary>
    Working = 1,

    /// <summary>Stopping: takes no new fires and drains running ones.</summary>
    Leaving = 2,
}

/// <summary>One process of the cluster, as stored in the registry.</summary>
public sealed record Node
{
    /// <summary>Unique id of the node; assignment sorts nodes by it (ordinal).</summary>
    public required string Id { get; init; }

    /// <summary>The node's IP address (informational).</summary>
    public string Ip { get; init; } = "";

    /// <summary>The node's host name (informational).</summary>
    public string Hostname { get; init; } = "";

    /// <summary>The node's status.</summary>
    public NodeStatus Status { get; init; } = NodeStatus.Starting;

    /// <summary>Weight for the weighted assigner; at least 1.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>When the node was created (its own clock; informational).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}
