namespace DistributedCron;

/// <summary>
/// The "server" behind one or more <see cref="InMemoryRegistry"/> clients: the state of every namespace, one lock
/// that makes each operation atomic, and the clock (<see cref="TimeProvider"/>) that judges node liveness.
/// </summary>
/// <remarks>
/// Share one store between several registries to model several processes talking to one server
/// (<c>new InMemoryRegistry(store, "ns1")</c>), for example to test namespace isolation or a cluster in one process.
/// Node expiry is driven by a timer of <see cref="TimeProvider"/>, so with a fake clock advancing time expires nodes
/// and delivers their <see cref="NodeEventKind.Removed"/> events.
/// </remarks>
public sealed class InMemoryStore
{
    private readonly Dictionary<string, InMemoryNamespace> _namespaces = new(StringComparer.Ordinal);
    private readonly ITimer _expiryTimer;
    private DateTimeOffset _timerDue = DateTimeOffset.MaxValue;
    private bool _available = true;

    /// <summary>Creates an empty store whose clock is <paramref name="timeProvider"/> (the system clock by default).</summary>
    public InMemoryStore(TimeProvider? timeProvider = null)
    {
        TimeProvider = timeProvider ?? TimeProvider.System;
        _expiryTimer = TimeProvider.CreateTimer(
            static s => ((InMemoryStore)s!).OnExpiryTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The server clock: node TTLs are evaluated against it.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// False simulates a server outage: every operation of every client throws
    /// <see cref="RegistryUnavailableException"/> and open watches receive nothing (node expiry goes on). When the
    /// store becomes available again, every open watch receives a fresh snapshot, as after a reconnect.
    /// </summary>
    public bool IsAvailable
    {
        get
        {
            lock (Gate)
            {
                return _available;
            }
        }

        set
        {
            lock (Gate)
            {
                if (_available == value)
                {
                    return;
                }

                _available = value;
                if (value)
                {
                    SweepExpired();
                    foreach (var ns in _namespaces.Values)
                    {
                        ns.PublishResync();
                    }
                }
            }
        }
    }

    /// <summary>Whether the store serves requests. Caller holds <see cref="Gate"/>.</summary>
    internal bool AvailableLocked => _available;

    /// <summary>The lock every operation on the store takes.</summary>
    internal Lock Gate { get; } = new();

    /// <summary>
    /// How many records the store keeps for <paramref name="namespace"/>: live nodes, tasks, tombstones and fire
    /// states, each counted once (storage stays bounded by these, never by the number of fires).
    /// </summary>
    public long CountRecords(string @namespace)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        lock (Gate)
        {
            SweepExpired();
            return _namespaces.TryGetValue(@namespace, out var ns)
                ? ns.Nodes.Count + ns.Tasks.Count + ns.Deleted.Count + ns.Fires.Count
                : 0;
        }
    }

    /// <summary>The state of one namespace, created on first use. Caller holds <see cref="Gate"/>.</summary>
    internal InMemoryNamespace GetNamespace(string @namespace)
    {
        if (!_namespaces.TryGetValue(@namespace, out var ns))
        {
            ns = new InMemoryNamespace(this, @namespace);
            _namespaces.Add(@namespace, ns);
        }

        return ns;
    }

    /// <summary>Removes every node whose TTL has passed and announces it. Caller holds <see cref="Gate"/>.</summary>
    internal void SweepExpired()
    {
        var now = TimeProvider.GetUtcNow();
        List<string>? expired = null;
        foreach (var ns in _namespaces.Values)
        {
            if (ns.Nodes.Count == 0)
            {
                continue;
            }

            expired?.Clear();
            foreach (var (id, entry) in ns.Nodes)
            {
                if (entry.ExpiresAt <= now)
                {
                    (expired ??= new List<string>()).Add(id);
                }
            }

            if (expired is null || expired.Count == 0)
            {
                continue;
            }

            expired.Sort(StringComparer.Ordinal);
            foreach (var id in expired)
            {
                ns.Nodes.Remove(id);
                ns.PublishNode(NodeEvent.Removed(id));
            }
        }
    }

    /// <summary>Makes sure the expiry timer fires no later than <paramref name="expiresAt"/>. Caller holds <see cref="Gate"/>.</summary>
    internal void ScheduleExpiry(DateTimeOffset expiresAt)
    {
        if (expiresAt >= _timerDue)
        {
            return;
        }

        _timerDue = expiresAt;
        var due = expiresAt - TimeProvider.GetUtcNow();
        _expiryTimer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private void OnExpiryTimer()
    {
        lock (Gate)
        {
            _timerDue = DateTimeOffset.MaxValue;
            SweepExpired();
            var next = DateTimeOffset.MaxValue;
            foreach (var ns in _namespaces.Values)
            {
                foreach (var entry in ns.Nodes.Values)
                {
                    if (entry.ExpiresAt < next)
                    {
                        next = entry.ExpiresAt;
                    }
                }
            }

            if (next != DateTimeOffset.MaxValue)
            {
                ScheduleExpiry(next);
            }
        }
    }
}

/// <summary>A node record with its liveness.</summary>
internal sealed class InMemoryNodeEntry
{
    public InMemoryNodeEntry(Node node, TimeSpan ttl, DateTimeOffset expiresAt)
    {
        Node = node;
        Ttl = ttl;
        ExpiresAt = expiresAt;
    }

    public Node Node { get; set; }

    public TimeSpan Ttl { get; }

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>Everything one namespace holds, plus its watchers. Every member is used under the store's lock.</summary>
internal sealed class InMemoryNamespace
{
    private readonly Func<NodeEvent> _nodeSnapshot;
    private readonly Func<TaskEvent> _taskSnapshot;

    private readonly InMemoryStore _store;

    public InMemoryNamespace(InMemoryStore store, string name)
    {
        _store = store;
        Name = name;
        _nodeSnapshot = NodeSnapshot;
        _taskSnapshot = TaskSnapshot;
    }

    public string Name { get; }

    public Dictionary<string, InMemoryNodeEntry> Nodes { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, TaskMeta> Tasks { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Deleted { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, TaskFireState> Fires { get; } = new(StringComparer.Ordinal);

    public List<WatchSubscription<NodeEvent>> NodeWatchers { get; } = new();

    public List<WatchSubscription<TaskEvent>> TaskWatchers { get; } = new();

    public Node[] SortedNodes()
    {
        var nodes = new Node[Nodes.Count];
        var i = 0;
        foreach (var entry in Nodes.Values)
        {
            nodes[i++] = entry.Node;
        }

        Array.Sort(nodes, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return nodes;
    }

    public NodeEvent NodeSnapshot() => NodeEvent.Snapshot(SortedNodes());

    public TaskEvent TaskSnapshot() =>
        TaskEvent.Snapshot(new Dictionary<string, TaskMeta>(Tasks, StringComparer.Ordinal), new HashSet<string>(Deleted, StringComparer.Ordinal));

    public void PublishNode(NodeEvent e)
    {
        if (!_store.AvailableLocked)
        {
            return; // lost in the outage; the snapshot at recovery covers it
        }

        foreach (var w in NodeWatchers)
        {
            w.Publish(e, _nodeSnapshot);
        }
    }

    public void PublishTask(TaskEvent e)
    {
        if (!_store.AvailableLocked)
        {
            return;
        }

        foreach (var w in TaskWatchers)
        {
            w.Publish(e, _taskSnapshot);
        }
    }

    /// <summary>Sends every watcher a fresh snapshot (after an outage).</summary>
    public void PublishResync()
    {
        foreach (var w in NodeWatchers)
        {
            w.PublishSnapshot(_nodeSnapshot);
        }

        foreach (var w in TaskWatchers)
        {
            w.PublishSnapshot(_taskSnapshot);
        }
    }
}
