namespace DistributedCron.Testing.Conformance;

/// <summary>
/// Reads a registry watch in the background and folds its events into a view (a snapshot replaces the view), so a
/// test can wait until the view satisfies a condition and accept either individual events or a resync snapshot.
/// It also records, per key, the sequence of distinct states it observed, to check order.
/// </summary>
/// <typeparam name="TEvent">The watch's event type.</typeparam>
/// <typeparam name="TState">The state of one key in the view (a value-equal record).</typeparam>
public abstract class WatchFolder<TEvent, TState> : IAsyncDisposable
    where TEvent : class
    where TState : class
{
    private readonly object _gate = new();
    private readonly Dictionary<string, TState> _view = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TState?>> _history = new(StringComparer.Ordinal);
    private readonly List<TEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _pump;
    private Exception? _endException;
    private bool _ended;

    /// <summary>The events received so far, in order.</summary>
    public IReadOnlyList<TEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToArray();
            }
        }
    }

    /// <summary>A copy of the current view.</summary>
    public IReadOnlyDictionary<string, TState> View
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, TState>(_view, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Completes when the watch has ended (by itself, by cancellation or by the registry's dispose).</summary>
    public Task Completion => _pump ?? Task.CompletedTask;

    /// <summary>How the watch ended: null while it runs or when it completed normally, else its exception.</summary>
    public Exception? EndException
    {
        get
        {
            lock (_gate)
            {
                return _endException;
            }
        }
    }

    /// <summary>The distinct consecutive states observed for <paramref name="key"/> (null = absent), excluding an initial absence.</summary>
    public IReadOnlyList<TState?> HistoryOf(string key)
    {
        lock (_gate)
        {
            return _history.TryGetValue(key, out var h) ? h.ToArray() : Array.Empty<TState?>();
        }
    }

    /// <summary>Waits until the view satisfies <paramref name="predicate"/>; fails after <paramref name="timeout"/> or when the watch ends.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyDictionary<string, TState>, bool> predicate, TimeSpan timeout, string what, CancellationToken ct = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (predicate(_view))
                {
                    return;
                }

                if (_ended)
                {
                    throw new InvalidOperationException(
                        $"The watch ended while waiting for: {what}. {Describe()}", _endException);
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                string state;
                lock (_gate)
                {
                    state = Describe();
                }

                throw new TimeoutException($"Timed out after {timeout} waiting for: {what}. {state}");
            }
        }
    }

    /// <summary>Stops reading and waits for the watch to end; rethrows a failure of the watch other than cancellation or dispose.</summary>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_pump is not null)
        {
            await _pump.ConfigureAwait(false);
        }

        _stop.Dispose();
        var ex = EndException;
        if (ex is not null and not OperationCanceledException and not ObjectDisposedException)
        {
            throw new InvalidOperationException("The watch failed.", ex);
        }
    }

    /// <summary>Starts reading and waits for the first event, which must be a snapshot.</summary>
    protected async Task StartReadingAsync(IRegistry registry, TimeSpan timeout, CancellationToken ct)
    {
        _pump = Task.Run(() => PumpAsync(registry));
        await WaitUntilReceivedAsync(1, timeout, ct).ConfigureAwait(false);
        var first = Events[0];
        if (!IsSnapshot(first))
        {
            throw new InvalidOperationException($"A watch must start with a snapshot; the first event was {first}.");
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> events arrived.</summary>
    public Task WaitUntilReceivedAsync(int count, TimeSpan timeout, CancellationToken ct = default) =>
        WaitUntilAsync(_ => _events.Count >= count, timeout, $"{count} event(s)", ct);

    /// <summary>The registry's watch.</summary>
    protected abstract IAsyncEnumerable<TEvent> Watch(IRegistry registry, CancellationToken ct);

    /// <summary>True for a snapshot event.</summary>
    protected abstract bool IsSnapshot(TEvent e);

    /// <summary>The new state of every key a non-snapshot event touches (null = absent), given the current view.</summary>
    protected abstract IEnumerable<KeyValuePair<string, TState?>> Changes(TEvent e, IReadOnlyDictionary<string, TState> view);

    /// <summary>The complete view a snapshot event describes.</summary>
    protected abstract IReadOnlyDictionary<string, TState> SnapshotView(TEvent e);

    private async Task PumpAsync(IRegistry registry)
    {
        try
        {
            await foreach (var e in Watch(registry, _stop.Token).ConfigureAwait(false))
            {
                lock (_gate)
                {
                    _events.Add(e);
                    if (IsSnapshot(e))
                    {
                        var next = SnapshotView(e);
                        foreach (var key in _view.Keys.Where(k => !next.ContainsKey(k)).ToArray())
                        {
                            Set(key, null);
                        }

                        foreach (var (key, state) in next)
                        {
                            Set(key, state);
                        }
                    }
                    else
                    {
                        foreach (var (key, state) in Changes(e, _view).ToArray())
                        {
                            Set(key, state);
                        }
                    }

                    Signal();
                }
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _endException = ex;
            }
        }
        finally
        {
            lock (_gate)
            {
                _ended = true;
                Signal();
            }
        }
    }

    private void Set(string key, TState? state)
    {
        _view.TryGetValue(key, out var old);
        if (Equals(old, state))
        {
            return;
        }

        if (state is null)
        {
            _view.Remove(key);
        }
        else
        {
            _view[key] = state;
        }

        if (!_history.TryGetValue(key, out var h))
        {
            _history[key] = h = new List<TState?>();
        }

        h.Add(state);
    }

    private void Signal()
    {
        var done = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.TrySetResult();
    }

    private string Describe()
    {
        var last = _events.Skip(Math.Max(0, _events.Count - 12)).Select(e => e.ToString());
        return $"View ({_view.Count}): [{string.Join(", ", _view.Keys.Take(20))}]; {_events.Count} event(s), last: {string.Join(" | ", last)}"
            + (_endException is null ? "" : $"; watch ended with {_endException.GetType().Name}: {_endException.Message}");
    }
}

/// <summary>Folds <see cref="IRegistry.WatchNodesAsync"/> into a view of live nodes by id.</summary>
public sealed class NodeWatchFolder : WatchFolder<NodeEvent, Node>
{
    private NodeWatchFolder()
    {
    }

    /// <summary>Starts a node watch on <paramref name="registry"/> and waits for its initial snapshot.</summary>
    public static async Task<NodeWatchFolder> StartAsync(IRegistry registry, TimeSpan timeout, CancellationToken ct)
    {
        var f = new NodeWatchFolder();
        await f.StartReadingAsync(registry, timeout, ct).ConfigureAwait(false);
        return f;
    }

    /// <inheritdoc />
    protected override IAsyncEnumerable<NodeEvent> Watch(IRegistry registry, CancellationToken ct) => registry.WatchNodesAsync(ct);

    /// <inheritdoc />
    protected override bool IsSnapshot(NodeEvent e) => e.Kind == NodeEventKind.Snapshot;

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, Node> SnapshotView(NodeEvent e) =>
        e.Nodes.ToDictionary(n => n.Id, StringComparer.Ordinal);

    /// <inheritdoc />
    protected override IEnumerable<KeyValuePair<string, Node?>> Changes(NodeEvent e, IReadOnlyDictionary<string, Node> view) => e.Kind switch
    {
        NodeEventKind.Upserted => [new(e.NodeId, e.Node ?? throw new InvalidOperationException($"An upsert without a node: {e}"))],
        NodeEventKind.Removed => [new(e.NodeId, null)],
        _ => throw new InvalidOperationException($"Unknown node event kind {e.Kind}."),
    };
}

/// <summary>The state of one task name in a <see cref="TaskWatchFolder"/>.</summary>
/// <param name="Meta">The stored metadata, or null.</param>
/// <param name="Tombstoned">True when the name is tombstoned.</param>
public sealed record TaskView(TaskMeta? Meta, bool Tombstoned)
{
    /// <inheritdoc />
    public override string ToString() => $"({Meta?.CronFormat ?? "no meta"}{(Meta?.Payload is { } p ? " payload " + p[..Math.Min(p.Length, 12)] : "")}, {(Tombstoned ? "tombstoned" : "live")})";
}

/// <summary>Folds <see cref="IRegistry.WatchTasksAsync"/> into a view of task names (metadata and tombstone).</summary>
public sealed class TaskWatchFolder : WatchFolder<TaskEvent, TaskView>
{
    private TaskWatchFolder()
    {
    }

    /// <summary>Starts a task watch on <paramref name="registry"/> and waits for its initial snapshot.</summary>
    public static async Task<TaskWatchFolder> StartAsync(IRegistry registry, TimeSpan timeout, CancellationToken ct)
    {
        var f = new TaskWatchFolder();
        await f.StartReadingAsync(registry, timeout, ct).ConfigureAwait(false);
        return f;
    }

    /// <summary>The state a name has given its metadata and tombstone (null when it has neither).</summary>
    public static TaskView? StateOf(TaskMeta? meta, bool tombstoned) => meta is null && !tombstoned ? null : new TaskView(meta, tombstoned);

    /// <inheritdoc />
    protected override IAsyncEnumerable<TaskEvent> Watch(IRegistry registry, CancellationToken ct) => registry.WatchTasksAsync(ct);

    /// <inheritdoc />
    protected override bool IsSnapshot(TaskEvent e) => e.Kind == TaskEventKind.Snapshot;

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, TaskView> SnapshotView(TaskEvent e)
    {
        var view = new Dictionary<string, TaskView>(StringComparer.Ordinal);
        foreach (var name in e.Tasks.Keys.Union(e.DeletedNames, StringComparer.Ordinal))
        {
            view[name] = new TaskView(e.Tasks.GetValueOrDefault(name), e.DeletedNames.Contains(name));
        }

        return view;
    }

    /// <inheritdoc />
    protected override IEnumerable<KeyValuePair<string, TaskView?>> Changes(TaskEvent e, IReadOnlyDictionary<string, TaskView> view)
    {
        var old = view.GetValueOrDefault(e.Name);
        var meta = old?.Meta;
        var tomb = old?.Tombstoned ?? false;
        switch (e.Kind)
        {
            case TaskEventKind.Put:
                meta = e.Task ?? throw new InvalidOperationException($"A put without metadata: {e}");
                break;
            case TaskEventKind.Removed:
                meta = null;
                break;
            case TaskEventKind.Tombstoned:
                tomb = true;
                break;
            case TaskEventKind.Restored:
                tomb = false;
                break;
            default:
                throw new InvalidOperationException($"Unknown task event kind {e.Kind}.");
        }

        return [new(e.Name, StateOf(meta, tomb))];
    }
}
