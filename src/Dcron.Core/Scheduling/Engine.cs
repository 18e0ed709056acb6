using Microsoft.Extensions.Logging;

namespace DistributedCron;

/// <summary>
/// The node's engine: the shared state (catalog, view, membership) behind one gate, the assignment of tasks to this
/// node, the timer queue of owned tasks, and dispatch of fires and catch-ups. <see cref="Dcron"/> is its facade.
/// </summary>
internal sealed class Engine : IDisposable
{
    private readonly Dictionary<string, TaskRuntime> _runtimes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _owned = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _fires = new();
    private readonly IAssigner _assigner;
    private readonly TimerQueue _timers;
    private int _reconcileRequested;
    private (long View, long Catalog, bool Eligible, bool Accepting) _lastKey = (-1, -1, false, false);
    private string[] _ownedSorted = [];

    public Engine(IRegistry registry, DcronOptions options, string nodeId, ILogger logger)
    {
        Options = options;
        NodeId = nodeId;
        Logger = logger;
        Time = options.TimeProvider;
        Work = new WorkTracker(Time);
        Metrics = new DcronMetrics(nodeId, () => WorkingCount, () => OwnedCount);
        Registry = new RegistryClient(registry, Metrics, Time);
        Catalog = new TaskCatalog(options, logger, nodeId);
        View = new NodeView();
        _assigner = options.Assigner ?? Assigners.Create(options.Strategy);
        _timers = new TimerQueue(Time, Work, OnTimersDue, ex => Log.BackgroundFailed(Logger, "timer queue", NodeId, ex));
        Membership = new Membership(this);
        Fires = new FirePipeline(this);
        CatchUp = new CatchUp(this);
        Sync = new ClusterSync(this);
    }

    public DcronOptions Options { get; }

    public string NodeId { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public WorkTracker Work { get; }

    public DcronMetrics Metrics { get; }

    public RegistryClient Registry { get; }

    /// <summary>Guards <see cref="Catalog"/>, <see cref="View"/>, <see cref="Membership"/> state and every <see cref="TaskRuntime"/>.</summary>
    public Lock Gate { get; } = new();

    public TaskCatalog Catalog { get; }

    public NodeView View { get; }

    public Membership Membership { get; }

    public FirePipeline Fires { get; }

    public CatchUp CatchUp { get; }

    public ClusterSync Sync { get; }

    /// <summary>False until the node is working, and again from the moment it starts leaving: no fire is claimed then.</summary>
    public bool Accepting { get; private set; }

    /// <summary>Cancelled when the node starts leaving: pending claims give up (unclaimed occurrences are caught up by peers).</summary>
    public CancellationTokenSource DispatchStop { get; private set; } = new();

    /// <summary>Cancelled when the shutdown timeout ran out: running handlers are cancelled.</summary>
    public CancellationTokenSource AbortRuns { get; private set; } = new();

    /// <summary>Cancelled at the very end of a stop: outcome recording and post-run actions give up.</summary>
    public CancellationTokenSource FinalStop { get; private set; } = new();

    public Action<FireCompletedEventArgs>? FireCompleted { get; set; }

    public Action<NodesChangedEventArgs>? NodesChanged { get; set; }

    public Action<AssignmentChangedEventArgs>? AssignmentChanged { get; set; }

    public int OwnedCount
    {
        get
        {
            lock (Gate)
            {
                return _owned.Count;
            }
        }
    }

    public int WorkingCount
    {
        get
        {
            lock (Gate)
            {
                return View.Working.Count;
            }
        }
    }

    public IReadOnlyList<string> OwnedTasks
    {
        get
        {
            lock (Gate)
            {
                return _ownedSorted;
            }
        }
    }

    /// <summary>Fresh cancellation sources for a (re)start.</summary>
    public void ResetForStart()
    {
        DispatchStop.Dispose();
        AbortRuns.Dispose();
        FinalStop.Dispose();
        DispatchStop = new CancellationTokenSource();
        AbortRuns = new CancellationTokenSource();
        FinalStop = new CancellationTokenSource();
    }

    /// <summary>Starts (true) or stops (false) taking fires, and recomputes the assignment at once.</summary>
    public void SetAccepting(bool accepting)
    {
        lock (Gate)
        {
            Accepting = accepting;
            if (!accepting)
            {
                _timers.Clear();
            }
        }

        ReconcileNow();
    }

    /// <summary>Asks for an assignment recomputation; bursts of requests coalesce into one pass.</summary>
    public void RequestReconcile()
    {
        if (Interlocked.Exchange(ref _reconcileRequested, 1) == 0)
        {
            Work.Run(() =>
            {
                Volatile.Write(ref _reconcileRequested, 0);
                ReconcileNow();
                return Task.CompletedTask;
            }, ex => Log.BackgroundFailed(Logger, "rebalance", NodeId, ex));
        }
    }

    /// <summary>Recomputes which tasks this node owns and (un)schedules the difference.</summary>
    public void ReconcileNow()
    {
        List<CatchUpItem>? catchUps = null;
        AssignmentChangedEventArgs? changed = null;
        lock (Gate)
        {
            var eligible = Membership.IsEligible && Accepting;
            var key = (View.WorkingVersion, Catalog.Version, eligible, Accepting);
            if (key == _lastKey)
            {
                return;
            }

            _lastKey = key;
            var working = View.Working;
            if (!eligible && working.Any(n => n.Id == NodeId))
            {
                working = working.Where(n => n.Id != NodeId).ToArray();
            }

            var names = Catalog.ActiveNames;
            var newOwned = new HashSet<string>(StringComparer.Ordinal);
            if (eligible && working.Count > 0 && names.Count > 0)
            {
                var assignment = _assigner.Build(working, names);
                foreach (var name in names)
                {
                    if (string.Equals(assignment.OwnerOf(name), NodeId, StringComparison.Ordinal))
                    {
                        newOwned.Add(name);
                    }
                }
            }

            var gained = new List<string>();
            var lost = new List<string>();
            foreach (var name in _owned)
            {
                if (!newOwned.Contains(name))
                {
                    var rt = _runtimes[name];
                    rt.Owned = false;
                    rt.Definition = null;
                    rt.Generation++;
                    lost.Add(name);
                }
            }

            var now = Time.GetUtcNow();
            foreach (var name in newOwned)
            {
                var def = Catalog.GetActive(name)!;
                if (!_runtimes.TryGetValue(name, out var rt))
                {
                    rt = new TaskRuntime(name, Work);
                    _runtimes.Add(name, rt);
                }

                if (!rt.Owned)
                {
                    gained.Add(name);
                    var item = StartSchedule(rt, def, now, catchUp: true);
                    (catchUps ??= new List<CatchUpItem>()).Add(item!.Value);
                }
                else if (rt.Definition!.Version != def.Version)
                {
                    // A changed schedule starts from now: no catch-up of occurrences the old definition never had.
                    rt.HighWater = Max(rt.HighWater, now - TimeSpan.FromTicks(1));
                    StartSchedule(rt, def, now, catchUp: false);
                }
            }

            // Forget runtimes of tasks that are gone and idle, so the map stays bounded by the task set.
            if (lost.Count > 0)
            {
                foreach (var name in lost)
                {
                    var rt = _runtimes[name];
                    if (rt.Running == 0 && !rt.CatchUpPending && Catalog.GetActive(name) is null && rt.SpentVersion == 0)
                    {
                        _runtimes.Remove(name);
                    }
                }
            }

            _owned.Clear();
            _owned.UnionWith(newOwned);
            if (gained.Count > 0 || lost.Count > 0)
            {
                _ownedSorted = newOwned.OrderBy(n => n, StringComparer.Ordinal).ToArray();
                gained.Sort(StringComparer.Ordinal);
                lost.Sort(StringComparer.Ordinal);
                Metrics.Rebalanced();
                changed = new AssignmentChangedEventArgs
                {
                    NodeId = NodeId,
                    Owned = _ownedSorted,
                    Gained = gained,
                    Lost = lost,
                    WorkingNodeCount = working.Count,
                };
            }
        }

        if (changed is not null)
        {
            Log.AssignmentChanged(Logger, NodeId, changed.Owned.Count, changed.WorkingNodeCount, changed.Gained.Count, changed.Lost.Count);
            Raise(AssignmentChanged, changed, nameof(Dcron.AssignmentChanged));
        }

        if (catchUps is not null)
        {
            CatchUp.Dispatch(catchUps, knownStates: null);
        }
    }

    /// <summary>Schedules <paramref name="rt"/> under a new generation. Caller holds the gate.</summary>
    private CatchUpItem? StartSchedule(TaskRuntime rt, TaskDefinition def, DateTimeOffset now, bool catchUp)
    {
        rt.Owned = true;
        rt.Generation++;
        rt.Definition = def;
        rt.StateSeen = false;
        rt.SweepClearedTicks = -1;
        var next = def.Next(now, inclusive: true);
        rt.TimerStart = next ?? DateTimeOffset.MaxValue;
        if (next is { } due)
        {
            _timers.Enqueue(new TimerEntry(rt.Name, rt.Generation, due));
        }

        if (!catchUp)
        {
            return null;
        }

        rt.CatchUpPending = true;
        return new CatchUpItem(def, rt, rt.Generation, rt.Lane.Reserve());
    }

    private void OnTimersDue(List<TimerEntry> due)
    {
        List<FireItem>? fires = null;
        lock (Gate)
        {
            foreach (var e in due)
            {
                if (!Accepting || !_runtimes.TryGetValue(e.Task, out var rt) || !rt.Owned || rt.Generation != e.Generation)
                {
                    continue;
                }

                var def = rt.Definition!;
                if (def.Next(e.Due, inclusive: false) is { } next)
                {
                    _timers.Enqueue(new TimerEntry(e.Task, e.Generation, next));
                }

                (fires ??= new List<FireItem>()).Add(new FireItem(def, rt, e.Generation, e.Due, rt.Lane.Reserve()));
            }
        }

        if (fires is null)
        {
            return;
        }

        foreach (var f in fires)
        {
            Track(() => Fires.FireAsync(f), "fire");
        }
    }

    /// <summary>The runtime of an owned task, when <paramref name="generation"/> is still current. Caller holds the gate.</summary>
    public TaskRuntime? Current(TaskRuntime rt, long generation) =>
        Accepting && rt.Owned && rt.Generation == generation ? rt : null;

    /// <summary>Every owned task, for the sweep. Caller holds the gate.</summary>
    public IEnumerable<TaskRuntime> OwnedRuntimes()
    {
        foreach (var name in _owned)
        {
            yield return _runtimes[name];
        }
    }

    /// <summary>Forgets the local state of every task (ForceCleanupAllTasks). Caller holds the gate.</summary>
    public void ResetAllRuntimes()
    {
        foreach (var name in _runtimes.Keys.ToArray())
        {
            ResetRuntime(name);
        }
    }

    /// <summary>Forgets the local state of a task whose registry records were erased (Force*, cleanup). Caller holds the gate.</summary>
    public void ResetRuntime(string name)
    {
        if (_runtimes.TryGetValue(name, out var rt) && rt.Running == 0 && !rt.CatchUpPending)
        {
            if (rt.Owned)
            {
                _owned.Remove(name);
                rt.Owned = false;
                rt.Generation++;
                _ownedSorted = _owned.OrderBy(n => n, StringComparer.Ordinal).ToArray();
            }

            _runtimes.Remove(name);
            _lastKey = (-1, -1, false, false);
        }
    }

    /// <summary>Runs <paramref name="work"/> as a tracked unit that <see cref="DrainAsync"/> waits for.</summary>
    public void Track(Func<Task> work, string what)
    {
        Work.Begin();
        var task = Task.Run(async () =>
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.BackgroundFailed(Logger, what, NodeId, ex);
            }
            finally
            {
                Work.End();
            }
        });
        lock (_fires)
        {
            _fires.Add(task);
        }

        // Registered after the add, so the removal always follows it.
        task.ContinueWith(
            static (t, s) =>
            {
                var set = (HashSet<Task>)s!;
                lock (set)
                {
                    set.Remove(t);
                }
            },
            _fires,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Fires, catch-ups and runs in progress.</summary>
    public int InFlight
    {
        get
        {
            lock (_fires)
            {
                return _fires.Count;
            }
        }
    }

    /// <summary>Waits until every tracked fire completed, <paramref name="timeout"/> passed on the engine's clock, or
    /// <paramref name="ct"/> was cancelled; true when drained.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken ct)
    {
        Task[] pending;
        lock (_fires)
        {
            pending = _fires.ToArray();
        }

        if (pending.Length == 0)
        {
            return true;
        }

        var all = Task.WhenAll(pending);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(timeout, Time, cts.Token);
        var first = await Task.WhenAny(all, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        if (first != all)
        {
            return false;
        }

        // Runs started by catch-ups during the drain are tracked too: drain until none is left.
        lock (_fires)
        {
            if (_fires.Count == 0)
            {
                return true;
            }
        }

        return await DrainAsync(timeout, ct).ConfigureAwait(false);
    }

    /// <summary>Invokes a public event, logging (not propagating) a subscriber's exception.</summary>
    public void Raise<T>(Action<T>? handler, T args, string name)
    {
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(args);
        }
        catch (Exception ex)
        {
            Log.SubscriberThrew(Logger, name, ex);
        }
    }

    public static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    public void Dispose()
    {
        _timers.Dispose();
        Metrics.Dispose();
        DispatchStop.Dispose();
        AbortRuns.Dispose();
        FinalStop.Dispose();
    }
}

/// <summary>One timer fire waiting for its place in the task's claim lane.</summary>
internal readonly record struct FireItem(TaskDefinition Definition, TaskRuntime Runtime, long Generation, DateTimeOffset ScheduledAt, LaneTicket Ticket);

/// <summary>One catch-up waiting for its place in the task's claim lane.</summary>
internal readonly record struct CatchUpItem(TaskDefinition Definition, TaskRuntime Runtime, long Generation, LaneTicket Ticket);
