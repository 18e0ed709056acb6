namespace DistributedCron;

/// <summary>What a <see cref="NodeEvent"/> reports.</summary>
public enum NodeEventKind
{
    /// <summary>The complete set of live nodes; replaces the consumer's view.</summary>
    Snapshot = 0,

    /// <summary>A node was registered or changed.</summary>
    Upserted = 1,

    /// <summary>A node was unregistered or expired.</summary>
    Removed = 2,
}

/// <summary>A change of membership delivered by <see cref="IRegistry.WatchNodesAsync"/>.</summary>
public sealed record NodeEvent
{
    private NodeEvent(NodeEventKind kind, string nodeId, Node? node, IReadOnlyList<Node> nodes)
    {
        Kind = kind;
        NodeId = nodeId;
        Node = node;
        Nodes = nodes;
    }

    /// <summary>The kind of event.</summary>
    public NodeEventKind Kind { get; }

    /// <summary>The node concerned (empty for a snapshot).</summary>
    public string NodeId { get; }

    /// <summary>The node's new record (for <see cref="NodeEventKind.Upserted"/>).</summary>
    public Node? Node { get; }

    /// <summary>All live nodes sorted by id (for <see cref="NodeEventKind.Snapshot"/>; empty otherwise).</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>Creates a snapshot event.</summary>
    public static NodeEvent Snapshot(IReadOnlyList<Node> nodes) =>
        new(NodeEventKind.Snapshot, "", null, nodes.OrderBy(n => n.Id, StringComparer.Ordinal).ToArray());

    /// <summary>Creates an upsert event.</summary>
    public static NodeEvent Upserted(Node node) => new(NodeEventKind.Upserted, node.Id, node, Array.Empty<Node>());

    /// <summary>Creates a removal event.</summary>
    public static NodeEvent Removed(string nodeId) => new(NodeEventKind.Removed, nodeId, null, Array.Empty<Node>());
}

/// <summary>What a <see cref="TaskEvent"/> reports.</summary>
public enum TaskEventKind
{
    /// <summary>All tasks and tombstones; replaces the consumer's view.</summary>
    Snapshot = 0,

    /// <summary>A task's metadata was created or overwritten.</summary>
    Put = 1,

    /// <summary>A task's metadata was erased.</summary>
    Removed = 2,

    /// <summary>A name was tombstoned.</summary>
    Tombstoned = 3,

    /// <summary>A name's tombstone was removed.</summary>
    Restored = 4,
}

/// <summary>A change of tasks or tombstones delivered by <see cref="IRegistry.WatchTasksAsync"/>.</summary>
public sealed record TaskEvent
{
    private static readonly IReadOnlyDictionary<string, TaskMeta> NoTasks = new Dictionary<string, TaskMeta>();
    private static readonly IReadOnlySet<string> NoNames = new HashSet<string>();

    private TaskEvent(TaskEventKind kind, string name, TaskMeta? task, IReadOnlyDictionary<string, TaskMeta> tasks, IReadOnlySet<string> deleted)
    {
        Kind = kind;
        Name = name;
        Task = task;
        Tasks = tasks;
        DeletedNames = deleted;
    }

    /// <summary>The kind of event.</summary>
    public TaskEventKind Kind { get; }

    /// <summary>The task name concerned (empty for a snapshot).</summary>
    public string Name { get; }

    /// <summary>The new metadata (for <see cref="TaskEventKind.Put"/>).</summary>
    public TaskMeta? Task { get; }

    /// <summary>All tasks (for <see cref="TaskEventKind.Snapshot"/>; empty otherwise).</summary>
    public IReadOnlyDictionary<string, TaskMeta> Tasks { get; }

    /// <summary>All tombstoned names (for <see cref="TaskEventKind.Snapshot"/>; empty otherwise).</summary>
    public IReadOnlySet<string> DeletedNames { get; }

    /// <summary>Creates a snapshot event.</summary>
    public static TaskEvent Snapshot(IReadOnlyDictionary<string, TaskMeta> tasks, IReadOnlySet<string> deleted) =>
        new(TaskEventKind.Snapshot, "", null, tasks, deleted);

    /// <summary>Creates a put event.</summary>
    public static TaskEvent Put(TaskMeta task) => new(TaskEventKind.Put, task.Name, task, NoTasks, NoNames);

    /// <summary>Creates a removal event.</summary>
    public static TaskEvent Removed(string name) => new(TaskEventKind.Removed, name, null, NoTasks, NoNames);

    /// <summary>Creates a tombstone event.</summary>
    public static TaskEvent Tombstoned(string name) => new(TaskEventKind.Tombstoned, name, null, NoTasks, NoNames);

    /// <summary>Creates a restore event.</summary>
    public static TaskEvent Restored(string name) => new(TaskEventKind.Restored, name, null, NoTasks, NoNames);
}
