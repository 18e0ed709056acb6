namespace DistributedCron;

/// <summary>
/// The node's own registration: Starting → Working (first view loaded) → Leaving → unregistered. Heart-beats every
/// <see cref="DcronOptions.HeartbeatInterval"/>, registers again when the registry lost the node, and fences itself
/// (owns nothing) after <see cref="DcronOptions.NodeTtl"/> without a successful heartbeat, because by then the
/// cluster considers it dead and has moved its tasks.
/// </summary>
internal sealed class Membership(Engine engine)
{
    private Node? _record;
    private NodeStatus _status = NodeStatus.Starting;
    private DateTimeOffset _lastOk;
    private DateTimeOffset? _failingSince;
    private bool _fenced;

    /// <summary>The status this node wants to have. Read under the gate.</summary>
    public NodeStatus Status => _status;

    /// <summary>True when this node may own tasks: working and not fenced. Read under the gate.</summary>
    public bool IsEligible => _status == NodeStatus.Working && !_fenced;

    public bool Fenced => _fenced;

    private Node Record(NodeStatus status) => (_record ?? throw new InvalidOperationException("The node was never registered.")) with { Status = status };

    public async Task RegisterAsync(CancellationToken ct)
    {
        var o = engine.Options;
        _record ??= new Node
        {
            Id = engine.NodeId,
            Ip = o.NodeIp ?? DcronOptions.DetectIp(),
            Hostname = Environment.MachineName,
            Weight = o.Weight,
            CreatedAt = engine.Time.GetUtcNow(),
        };
        lock (engine.Gate)
        {
            _status = NodeStatus.Starting;
            _fenced = false;
        }

        await engine.Registry.RegisterNodeAsync(Record(NodeStatus.Starting), o.NodeTtl, ct).ConfigureAwait(false);
        lock (engine.Gate)
        {
            _lastOk = engine.Time.GetUtcNow();
            _failingSince = null;
        }

        Log.NodeRegistered(engine.Logger, engine.NodeId, NodeStatus.Starting, o.NodeTtl);
    }

    /// <summary>Changes the node's status in the registry (registering it again if it was lost) and in the local view.</summary>
    public async Task SetStatusAsync(NodeStatus status, CancellationToken ct)
    {
        lock (engine.Gate)
        {
            _status = status;
        }

        try
        {
            await engine.Registry.UpdateNodeStatusAsync(engine.NodeId, status, ct).ConfigureAwait(false);
        }
        catch (NodeNotFoundException)
        {
            Log.NodeReregistering(engine.Logger, engine.NodeId);
            await engine.Registry.RegisterNodeAsync(Record(status), engine.Options.NodeTtl, ct).ConfigureAwait(false);
        }

        bool viewChanged;
        lock (engine.Gate)
        {
            _lastOk = engine.Time.GetUtcNow();
            viewChanged = engine.View.Upsert(Record(status));
        }

        if (viewChanged)
        {
            engine.Sync.OnViewChanged();
        }
    }

    /// <summary>One heartbeat: extend the registration, or register again when the registry lost it.</summary>
    public async Task HeartbeatOnceAsync(CancellationToken ct)
    {
        NodeStatus status;
        lock (engine.Gate)
        {
            status = _status;
        }

        try
        {
            try
            {
                await engine.Registry.HeartbeatAsync(engine.NodeId, ct).ConfigureAwait(false);
            }
            catch (NodeNotFoundException)
            {
                Log.NodeReregistering(engine.Logger, engine.NodeId);
                await engine.Registry.RegisterNodeAsync(Record(status), engine.Options.NodeTtl, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Failed(ex);
            return;
        }

        Succeeded();
    }

    private void Succeeded()
    {
        TimeSpan? outage = null;
        var unfenced = false;
        lock (engine.Gate)
        {
            var now = engine.Time.GetUtcNow();
            _lastOk = now;
            if (_failingSince is { } since)
            {
                outage = now - since;
                _failingSince = null;
            }

            if (_fenced)
            {
                _fenced = false;
                unfenced = true;
            }
        }

        if (outage is { } o)
        {
            Log.RegistryRecovered(engine.Logger, engine.NodeId, o);
        }

        if (unfenced)
        {
            engine.RequestReconcile();
        }
    }

    private void Failed(Exception error)
    {
        var first = false;
        TimeSpan? fencedAfter = null;
        lock (engine.Gate)
        {
            var now = engine.Time.GetUtcNow();
            if (_failingSince is null)
            {
                _failingSince = now;
                first = true;
            }

            if (!_fenced && now - _lastOk >= engine.Options.NodeTtl)
            {
                _fenced = true;
                fencedAfter = now - _lastOk;
            }
        }

        if (first)
        {
            Log.HeartbeatFailed(engine.Logger, engine.NodeId, error);
        }
        else
        {
            Log.HeartbeatStillFailing(engine.Logger, engine.NodeId, error);
        }

        if (fencedAfter is { } silence)
        {
            Log.SelfFenced(engine.Logger, engine.NodeId, silence, engine.Options.NodeTtl);
            engine.RequestReconcile();
        }
    }
}
