using System.Runtime.CompilerServices;

namespace DistributedCron;

/// <summary>
/// An <see cref="IRegistry"/> held in process memory: for the demo, single-process use and tests. It follows the
/// whole registry contract (it passes the conformance suite): atomic claims and task adds, node expiry judged by
/// the store's <see cref="TimeProvider"/>, watches that start with a snapshot and never stall the writer.
/// </summary>
/// <remarks>
/// Every operation completes synchronously under the store's lock. Several instances sharing one
/// <see cref="InMemoryStore"/> behave like several clients of one server; each instance works in its own namespace.
/// Disposing an instance ends its watches; the nodes it registered stay until their TTL passes, as on a server.
/// </remarks>
public sealed partial class InMemoryRegistry : IRegistry
{
    private readonly InMemoryStore _store;
    private readonly InMemoryNamespace _ns;
    private readonly int _watchCapacity;
    private readonly int _maxPayloadBytes;
    private readonly List<IWatchSubscription> _watches = new();
    private volatile bool _isDisposed;

    /// <summary>Creates a registry with its own store (unless <see cref="InMemoryRegistryOptions.Store"/> is set).</summary>
    /// <param name="timeProvider">The server clock of a new store; must be null or the store's own clock when a store is given.</param>
    /// <param name="options">Namespace, store and limits; defaults when null.</param>
    /// <exception cref="ArgumentException">An option is invalid, or <paramref name="timeProvider"/> contradicts the given store.</exception>
    public InMemoryRegistry(TimeProvider? timeProvider = null, InMemoryRegistryOptions? options = null)
    {
        options ??= new InMemoryRegistryOptions();
        options.Validate();
        if (options.Store is { } s && timeProvider is not null && !ReferenceEquals(s.TimeProvider, timeProvider))
        {
            throw new ArgumentException("The time provider must be the store's own (InMemoryStore.TimeProvider) when a store is given.", nameof(timeProvider));
        }

        _store = options.Store ?? new InMemoryStore(timeProvider);
        Namespace = options.Namespace;
        _watchCapacity = options.WatchBufferCapacity;
        _maxPayloadBytes = options.MaxPayloadBytes;
        lock (_store.Gate)
        {
            _ns = _store.GetNamespace(Namespace);
        }
    }

    /// <summary>Creates a client of <paramref name="store"/> working in <paramref name="namespace"/>.</summary>
    /// <exception cref="ArgumentException">The namespace is empty or contains whitespace or control characters.</exception>
    public InMemoryRegistry(InMemoryStore store, string @namespace = InMemoryRegistryOptions.DefaultNamespace)
        : this(null, new InMemoryRegistryOptions { Store = store ?? throw new ArgumentNullException(nameof(store)), Namespace = @namespace })
    {
    }

    /// <summary>The store this client talks to.</summary>
    public InMemoryStore Store => _store;

    /// <summary>The namespace this client works in.</summary>
    public string Namespace { get; }

    private DateTimeOffset Now => _store.TimeProvider.GetUtcNow();

    /// <inheritdoc />
    public Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default) => Run(ct, () =>
    {
        ArgumentNullException.ThrowIfNull(node);
        ValidateNodeId(node.Id, nameof(node));
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A node TTL must be positive.");
        }

        lock (_store.Gate)
        {
            _store.SweepExpired();
            var expiresAt = Now + ttl;
            _ns.Nodes[node.Id] = new InMemoryNodeEntry(node, ttl, expiresAt);
            _store.ScheduleExpiry(expiresAt);
            _ns.PublishNode(NodeEvent.Upserted(node));
        }
    });

    /// <inheritdoc />
    public Task HeartbeatAsync(string nodeId, CancellationToken ct = default) => Run(ct, () =>
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        lock (_store.Gate)
        {
            var entry = LiveNode(nodeId);
            entry.ExpiresAt = Now + entry.Ttl;
        }
    });

    /// <inheritdoc />
    public Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default) => Run(ct, () =>
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown node status.");
        }

        lock (_store.Gate)
        {
            var entry = LiveNode(nodeId);
            if (entry.Node.Status != status)
            {
                entry.Node = entry.Node with { Status = status };
                _ns.PublishNode(NodeEvent.Upserted(entry.Node));
            }
        }
    });

    /// <inheritdoc />
    public Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default) => Run(ct, () =>
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        lock (_store.Gate)
        {
            _store.SweepExpired();
            if (_ns.Nodes.Remove(nodeId))
            {
                _ns.PublishNode(NodeEvent.Removed(nodeId));
            }
        }
    });

    /// <inheritdoc />
    public Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default) => Run<IReadOnlyList<Node>>(ct, () =>
    {
        lock (_store.Gate)
        {
            _store.SweepExpired();
            return _ns.SortedNodes();
        }
    });

    /// <inheritdoc />
    /// <remarks>The enumeration subscribes when it starts; it ends normally when the registry is disposed and
    /// throws <see cref="OperationCanceledException"/> when <paramref name="ct"/> is cancelled.</remarks>
    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        return WatchCore(static ns => ns.NodeWatchers, static ns => ns.NodeSnapshot(), ct);
    }

    /// <inheritdoc />
    /// <remarks>The enumeration subscribes when it starts; it ends normally when the registry is disposed and
    /// throws <see cref="OperationCanceledException"/> when <paramref name="ct"/> is cancelled.</remarks>
    public IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        return WatchCore(static ns => ns.TaskWatchers, static ns => ns.TaskSnapshot(), ct);
    }

    /// <summary>Ends this client's watches; further calls throw <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_store.Gate)
        {
            if (_isDisposed)
            {
                return ValueTask.CompletedTask;
            }

            _isDisposed = true;
            foreach (var w in _watches)
            {
                w.Detach();
                w.Complete();
            }

            _watches.Clear();
        }

        return ValueTask.CompletedTask;
    }

    private async IAsyncEnumerable<T> WatchCore<T>(
        Func<InMemoryNamespace, List<WatchSubscription<T>>> watchers,
        Func<InMemoryNamespace, T> snapshot,
        [EnumeratorCancellation] CancellationToken ct)
        where T : class
    {
        ct.ThrowIfCancellationRequested();
        WatchSubscription<T> sub;
        lock (_store.Gate)
        {
            ObjectDisposedException.ThrowIf(_isDisposed, this);
            _store.SweepExpired();
            var list = watchers(_ns);
            sub = new WatchSubscription<T>(_watchCapacity, list);
            if (_store.AvailableLocked)
            {
                sub.Publish(snapshot(_ns), () => snapshot(_ns)); // else the snapshot comes when the store recovers
            }

            list.Add(sub);
            _watches.Add(sub);
        }

        try
        {
            while (await sub.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (sub.Reader.TryRead(out var e))
                {
                    yield return e;
                }
            }
        }
        finally
        {
            lock (_store.Gate)
            {
                sub.Detach();
                sub.Complete();
                _watches.Remove(sub);
            }
        }
    }

    /// <summary>The live entry of a node, or <see cref="NodeNotFoundException"/>. Caller holds the lock.</summary>
    private InMemoryNodeEntry LiveNode(string nodeId)
    {
        _store.SweepExpired();
        return _ns.Nodes.TryGetValue(nodeId, out var entry) ? entry : throw new NodeNotFoundException(nodeId);
    }

    private void ThrowIfUnavailable()
    {
        if (!_store.IsAvailable)
        {
            throw new RegistryUnavailableException($"The in-memory registry (namespace '{Namespace}') is unavailable: its store simulates an outage.");
        }
    }

    private static void ValidateNodeId(string? nodeId, string paramName)
    {
        if (string.IsNullOrWhiteSpace(nodeId))
        {
            throw new ArgumentException($"Illegal node id '{nodeId}': it must not be empty.", paramName);
        }
    }

    private Task Run(CancellationToken ct, Action op)
    {
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled(ct);
        }

        try
        {
            ObjectDisposedException.ThrowIf(_isDisposed, this);
            ThrowIfUnavailable();
            op();
            return Task.CompletedTask;
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private Task<T> Run<T>(CancellationToken ct, Func<T> op)
    {
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(ct);
        }

        try
        {
            ObjectDisposedException.ThrowIf(_isDisposed, this);
            ThrowIfUnavailable();
            return Task.FromResult(op());
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }
}
