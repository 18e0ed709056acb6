using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron;

/// <summary>
/// One node of a Dcron cluster: runs cron tasks so that every scheduled occurrence of every task runs on exactly one
/// live node, coordinated through an <see cref="IRegistry"/>.
/// </summary>
/// <remarks>
/// <para>Lifecycle: construct (options are validated here), add static tasks (before or after start),
/// <see cref="StartAsync"/> (returns once the node is working), <see cref="StopAsync"/> (graceful: leaving, drain,
/// unregister), <see cref="DisposeAsync"/>. A stopped instance cannot be started again; create a new one. The
/// registry is not owned: dispose it yourself after the node.</para>
/// <para>Every occurrence is claimed in the registry by its scheduled instant before it runs, so it starts at most
/// once in the cluster whatever the nodes' clocks or views; see <c>docs/guarantees.md</c>.</para>
/// </remarks>
public sealed partial class Dcron : IAsyncDisposable
{
    private readonly Engine _engine;
    private readonly DcronOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private State _state = State.Created;

    /// <summary>Creates a node on <paramref name="registry"/>.</summary>
    /// <param name="registry">The registry shared by the cluster (not disposed by this node).</param>
    /// <param name="configure">Sets options; they are validated when it returns.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message and parameter name say which).</exception>
    public Dcron(IRegistry registry, Action<DcronOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var options = new DcronOptions();
        configure?.Invoke(options);
        options.Validate();
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DistributedCron.Dcron");
        NodeId = options.NodeId ?? DcronOptions.NewNodeId(options.NodeIp ?? DcronOptions.DetectIp());
        _engine = new Engine(registry, options, NodeId, _logger)
        {
            FireCompleted = e => FireCompleted?.Invoke(this, e),
            NodesChanged = e => NodesChanged?.Invoke(this, e),
            AssignmentChanged = e => AssignmentChanged?.Invoke(this, e),
        };
    }

    private enum State
    {
        Created,
        Running,
        Stopped,
        Disposed,
    }

    /// <summary>Raised for every occurrence this node settled: ran (with its outcome), lost to another node, missed, coalesced or skipped. Runs on an engine thread; keep it short. Exceptions are logged.</summary>
    public event EventHandler<FireCompletedEventArgs>? FireCompleted;

    /// <summary>Raised when this node's view of the membership changes.</summary>
    public event EventHandler<NodesChangedEventArgs>? NodesChanged;

    /// <summary>Raised when the set of tasks this node owns changes.</summary>
    public event EventHandler<AssignmentChangedEventArgs>? AssignmentChanged;

    /// <summary>This node's id.</summary>
    public string NodeId { get; }

    /// <summary>True between a successful <see cref="StartAsync"/> and <see cref="StopAsync"/>.</summary>
    public bool IsRunning => _state == State.Running;

    internal Engine Engine => _engine;

    /// <summary>Completes when the engine has no runnable work (tests with a fake clock wait on this between steps).</summary>
    internal Task WhenIdleAsync() => _engine.Work.WhenIdleAsync();

    /// <summary>
    /// Registers the node, loads its first view of nodes and tasks, marks it working and starts scheduling. Returns
    /// once the node is working; it never blocks for the node's lifetime and hooks no process signal.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started, or stopped (create a new instance).</exception>
    /// <exception cref="RegistryException">The registry failed; nothing is left running or registered.</exception>
    public async Task StartAsync(CancellationToken ct = default)
    {
        await _lifecycle.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_state == State.Disposed, this);
            if (_state != State.Created)
            {
                throw new InvalidOperationException(_state == State.Running
                    ? $"Node {NodeId} is already started."
                    : $"Node {NodeId} was stopped; a stopped Dcron cannot be started again, create a new instance.");
            }

            _engine.ResetForStart();
            try
            {
                await _engine.Membership.RegisterAsync(ct).ConfigureAwait(false);
                await _engine.Sync.LoadInitialAsync(ct).ConfigureAwait(false);
                _engine.Sync.Start();
                await _engine.Membership.SetStatusAsync(NodeStatus.Working, ct).ConfigureAwait(false);
                _engine.SetAccepting(true);
            }
            catch (Exception ex)
            {
                Log.StartFailed(_logger, NodeId, ex);
                await UndoStartAsync().ConfigureAwait(false);
                throw;
            }

            _state = State.Running;
            int nodes, tasks;
            lock (_engine.Gate)
            {
                nodes = _engine.View.All.Count;
                tasks = _engine.Catalog.Count;
            }

            Log.NodeWorking(_logger, NodeId, nodes, tasks);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task UndoStartAsync()
    {
        _engine.SetAccepting(false);
        await _engine.DispatchStop.CancelAsync().ConfigureAwait(false);
        await _engine.Sync.StopAsync().ConfigureAwait(false);
        try
        {
            await _engine.Registry.UnregisterNodeAsync(NodeId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The registration (if any) expires after NodeTtl; the start error is what the caller sees.
            Log.StopStepFailed(_logger, NodeId, "unregistering after a failed start", ex);
        }
    }

    /// <summary>
    /// Stops gracefully: marks the node leaving and takes no new fire (peers take its tasks over and catch up),
    /// lets running handlers finish within <see cref="DcronOptions.ShutdownTimeout"/>, then cancels the rest and
    /// records their outcomes, and unregisters. Registry failures on the way are logged, not thrown: an unreachable
    /// node still stops, and its registration expires after <see cref="DcronOptions.NodeTtl"/>. Does nothing when
    /// the node is not running.
    /// </summary>
    /// <param name="ct">Cancelling it stops waiting for running handlers: they are cancelled at once.</param>
    public async Task StopAsync(CancellationToken ct = default)
    {
        await _lifecycle.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_state != State.Running)
            {
                return;
            }

            _state = State.Stopped;
            Log.NodeLeaving(_logger, NodeId, _engine.InFlight, _options.ShutdownTimeout);
            _engine.SetAccepting(false);
            await _engine.DispatchStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _engine.Membership.SetStatusAsync(NodeStatus.Leaving, _engine.FinalStop.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.StopStepFailed(_logger, NodeId, "marking the node leaving", ex);
            }

            if (!await _engine.DrainAsync(_options.ShutdownTimeout, ct).ConfigureAwait(false))
            {
                Log.DrainTimedOut(_logger, NodeId, _engine.InFlight, _options.ShutdownTimeout);
                await _engine.AbortRuns.CancelAsync().ConfigureAwait(false);
                if (!await _engine.DrainAsync(_options.ShutdownTimeout, CancellationToken.None).ConfigureAwait(false))
                {
                    Log.RunsAbandoned(_logger, NodeId, _engine.InFlight);
                }
            }

            await _engine.Sync.StopAsync().ConfigureAwait(false);
            try
            {
                await _engine.Registry.UnregisterNodeAsync(NodeId, _engine.FinalStop.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.StopStepFailed(_logger, NodeId, "unregistering", ex);
            }

            await _engine.AbortRuns.CancelAsync().ConfigureAwait(false);
            await _engine.FinalStop.CancelAsync().ConfigureAwait(false);
            Log.NodeStopped(_logger, NodeId);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops the node if it is running (see <see cref="StopAsync"/>) and releases its timers and meter.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_state == State.Disposed)
            {
                return;
            }

            _state = State.Disposed;
            _engine.Dispose();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>The active tasks this node knows (static and dynamic, tombstoned ones excluded), sorted.</summary>
    public IReadOnlyList<string> GetAllTasks()
    {
        lock (_engine.Gate)
        {
            return _engine.Catalog.ActiveNames.ToArray();
        }
    }

    /// <summary>The tasks this node owns now (it fires them), sorted.</summary>
    public IReadOnlyList<string> GetAssignedTasks() => _engine.OwnedTasks.ToArray();

    /// <summary>This node's current view of the cluster (every status), sorted by id.</summary>
    public IReadOnlyList<Node> GetNodes()
    {
        lock (_engine.Gate)
        {
            return _engine.View.All.ToArray();
        }
    }
}
