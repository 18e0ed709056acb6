namespace DistributedCron;

/// <summary>
/// Keeps the node's view and task catalog in step with the registry: the node and task watches (restarted with
/// backoff when they fail), the node poll with every heartbeat, and the task poll plus catch-up sweep every
/// <see cref="DcronOptions.CatchUpInterval"/>.
/// </summary>
internal sealed class ClusterSync(Engine engine)
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private CancellationTokenSource? _cts;
    private readonly List<Task> _loops = new();
    private bool _nodePollFailing;
    private bool _taskPollFailing;

    /// <summary>Reads nodes, tasks and tombstones once: the node's first view.</summary>
    public async Task LoadInitialAsync(CancellationToken ct)
    {
        var nodes = await engine.Registry.GetNodesAsync(ct).ConfigureAwait(false);
        var tasks = await engine.Registry.GetTasksAsync(ct).ConfigureAwait(false);
        var deleted = await engine.Registry.GetDeletedTaskNamesAsync(ct).ConfigureAwait(false);
        bool viewChanged;
        lock (engine.Gate)
        {
            viewChanged = engine.View.Replace(nodes);
            engine.Catalog.Replace(tasks, deleted);
        }

        if (viewChanged)
        {
            OnViewChanged();
        }
    }

    /// <summary>Starts the watches and the periodic heartbeat / poll / sweep loops.</summary>
    public void Start()
    {
        _cts = new CancellationTokenSource();
        var ct = _cts.Token;
        _loops.Add(Task.Run(() => WatchLoopAsync("nodes", c => engine.Registry.Inner.WatchNodesAsync(c), ApplyNodeEvent, ct)));
        _loops.Add(Task.Run(() => WatchLoopAsync("tasks", c => engine.Registry.Inner.WatchTasksAsync(c), ApplyTaskEvent, ct)));
        _loops.Add(PeriodicAsync("heartbeat", engine.Options.HeartbeatInterval, HeartbeatTickAsync, ct));
        _loops.Add(PeriodicAsync("catch-up sweep", engine.Options.CatchUpInterval, SweepTickAsync, ct));
    }

    /// <summary>Stops every loop and waits for them.</summary>
    public async Task StopAsync()
    {
        if (_cts is null)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _loops.Clear();
        _cts.Dispose();
        _cts = null;
    }

    /// <summary>Publishes a changed view and asks for a rebalance.</summary>
    public void OnViewChanged()
    {
        NodesChangedEventArgs args;
        lock (engine.Gate)
        {
            args = new NodesChangedEventArgs { Nodes = engine.View.All, WorkingNodes = engine.View.Working };
        }

        Log.ViewChanged(engine.Logger, engine.NodeId, args.WorkingNodes.Count, args.Nodes.Count,
            string.Join(", ", args.Nodes.Select(n => $"{n.Id}({n.Status})")));
        engine.Raise(engine.NodesChanged, args, nameof(Dcron.NodesChanged));
        engine.RequestReconcile();
    }

    /// <summary>Re-reads tasks and tombstones.</summary>
    public async Task PollTasksAsync(CancellationToken ct)
    {
        try
        {
            var tasks = await engine.Registry.GetTasksAsync(ct).ConfigureAwait(false);
            var deleted = await engine.Registry.GetDeletedTaskNamesAsync(ct).ConfigureAwait(false);
            long before, after;
            lock (engine.Gate)
            {
                before = engine.Catalog.Version;
                engine.Catalog.Replace(tasks, deleted);
                after = engine.Catalog.Version;
            }

            _taskPollFailing = false;
            if (after != before)
            {
                engine.RequestReconcile();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            PollFailed("tasks", ex, ref _taskPollFailing);
        }
    }

    private async Task PollNodesAsync(CancellationToken ct)
    {
        try
        {
            var nodes = await engine.Registry.GetNodesAsync(ct).ConfigureAwait(false);
            bool changed;
            lock (engine.Gate)
            {
                changed = engine.View.Replace(nodes);
            }

            _nodePollFailing = false;
            if (changed)
            {
                OnViewChanged();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            PollFailed("nodes", ex, ref _nodePollFailing);
        }
    }

    private void PollFailed(string what, Exception ex, ref bool failing)
    {
        if (failing)
        {
            Log.PollStillFailing(engine.Logger, what, engine.NodeId, ex);
        }
        else
        {
            failing = true;
            Log.PollFailed(engine.Logger, what, engine.NodeId, ex);
        }
    }

    private async Task HeartbeatTickAsync(CancellationToken ct)
    {
        await engine.Membership.HeartbeatOnceAsync(ct).ConfigureAwait(false);
        await PollNodesAsync(ct).ConfigureAwait(false);
    }

    private async Task SweepTickAsync(CancellationToken ct)
    {
        await PollTasksAsync(ct).ConfigureAwait(false);
        await engine.CatchUp.SweepAsync(ct).ConfigureAwait(false);
    }

    private void ApplyNodeEvent(NodeEvent e)
    {
        bool changed;
        lock (engine.Gate)
        {
            changed = engine.View.Apply(e);
        }

        if (changed)
        {
            OnViewChanged();
        }
    }

    private void ApplyTaskEvent(TaskEvent e)
    {
        long before, after;
        lock (engine.Gate)
        {
            before = engine.Catalog.Version;
            engine.Catalog.Apply(e);
            after = engine.Catalog.Version;
        }

        if (after != before)
        {
            engine.RequestReconcile();
        }
    }

    /// <summary>A loop that runs <paramref name="tick"/> every <paramref name="interval"/> as tracked work (parked while waiting).</summary>
    private Task PeriodicAsync(string what, TimeSpan interval, Func<CancellationToken, Task> tick, CancellationToken ct)
    {
        engine.Work.Begin();
        return Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await engine.Work.DelayAsync(interval, ct).ConfigureAwait(false);
                    try
                    {
                        await tick(ct).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        Log.BackgroundFailed(engine.Logger, what, engine.NodeId, ex);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Stopping: the loop ends here.
            }
            finally
            {
                engine.Work.End();
            }
        });
    }

    private async Task WatchLoopAsync<T>(string what, Func<CancellationToken, IAsyncEnumerable<T>> watch, Action<T> apply, CancellationToken ct)
    {
        var backoff = MinBackoff;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in watch(ct).WithCancellation(ct).ConfigureAwait(false))
                {
                    apply(e);
                    backoff = MinBackoff;
                }

                Log.WatchEnded(engine.Logger, what, engine.NodeId, backoff);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                engine.Metrics.RegistryCall("watch_" + what, TimeSpan.Zero, failed: true);
                Log.WatchFailed(engine.Logger, what, engine.NodeId, backoff, ex);
            }

            try
            {
                await Task.Delay(backoff, engine.Time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }

            backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        }
    }
}
