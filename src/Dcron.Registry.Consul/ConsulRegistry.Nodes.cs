using DistributedCron.Registry.Consul.Client;

namespace DistributedCron.Registry.Consul;

public sealed partial class ConsulRegistry
{
    /// <inheritdoc />
    /// <remarks>
    /// Creates a session (TTL = <paramref name="ttl"/> raised to <see cref="ConsulRegistryOptions.MinSessionTtl"/>,
    /// whole seconds; Behavior=delete; LockDelay 0 so a re-registration is never blocked; no health checks) and
    /// acquires the node's key with it. The key's value is the node with the requested <paramref name="ttl"/> (not the
    /// raised one) and a heartbeat counter (<see cref="ConsulNodeRecord"/>): watchers leave the node out once its key
    /// has not changed for that TTL. If the key is still held by an earlier session of the same node id (a restart
    /// before the old session expired), that session is destroyed first. This instance's previous session for the
    /// node, if any, is destroyed afterwards.
    /// </remarks>
    /// <exception cref="ArgumentException">The node id is empty or the TTL is not positive or above 24 h (Consul's maximum).</exception>
    public async Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ValidateNodeId(node.Id, nameof(node));
        if (ttl <= TimeSpan.Zero || ttl > TimeSpan.FromHours(24))
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A node TTL must be positive and at most 24 h (Consul's session TTL maximum).");
        }

        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var started = _liveness.Time.GetTimestamp();
        var effective = EffectiveSessionTtl(ttl);
        if (ttl < _options.MinSessionTtl)
        {
            ConsulLog.TtlRaised(_logger, ttl, _options.MinSessionTtl, node.Id);
        }

        var key = _keys.Node(node.Id);
        var record = new ConsulNodeRecord(node, ttl, 0);
        var session = await _client.CreateSessionAsync(new SessionCreateRequest
        {
            Name = key,
            Behavior = "delete",
            LockDelay = "0s",
            TTL = ConsulRegistryOptions.TtlString(effective),
            Checks = [],
            NodeChecks = [],
        }, ct).ConfigureAwait(false);
        try
        {
            await AcquireNodeKeyAsync(key, session, record.Encode(), node.Id, ct).ConfigureAwait(false);
        }
        catch
        {
            await DestroyQuietlyAsync(session, node.Id).ConfigureAwait(false);
            throw;
        }

        var lease = new NodeLease(session, record, started);
        NodeLease? previous = null;
        _leases.AddOrUpdate(node.Id, lease, (_, old) =>
        {
            previous = old;
            return lease;
        });
        if (previous is not null && previous.Session != session)
        {
            await DestroyQuietlyAsync(previous.Session, node.Id).ConfigureAwait(false);
        }

        ConsulLog.Registered(_logger, node.Id, session, ConsulRegistryOptions.TtlString(effective));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Renews the node's session (<c>PUT /v1/session/renew</c>), then rewrites the node's key with its heartbeat counter
    /// incremented: one <c>/v1/txn</c> of <c>check-session</c> (only the session holding the key writes it) and
    /// <c>cas</c> on the ModifyIndex this instance last wrote (so a status change made meanwhile is never overwritten;
    /// after one, the key is read again). Consul's 404 for a session that expired or was destroyed, a key held by
    /// another session, and a node whose last successful write by this instance is older than its TTL (every watcher
    /// has dropped it by then; its session is destroyed) are reported as <see cref="NodeNotFoundException"/>, so the
    /// caller registers again.
    /// </remarks>
    public async Task HeartbeatAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var key = _keys.Node(nodeId);
        var started = _liveness.Time.GetTimestamp();
        if (!_leases.TryGetValue(nodeId, out var lease))
        {
            // Registered by another instance (or this one lost track): use the session holding the key.
            var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
            if (entry?.Session is not { } holder)
            {
                throw new NodeNotFoundException(nodeId);
            }

            lease = _leases.GetOrAdd(nodeId, new NodeLease(holder, ConsulNodeRecord.Decode(entry), writtenAt: null) { ModifyIndex = entry.ModifyIndex });
        }

        if (lease.SilenceBeyondTtl(_liveness.Time, started) is { } silence)
        {
            Forget(nodeId, lease);
            await DestroyQuietlyAsync(lease.Session, nodeId).ConfigureAwait(false);
            ConsulLog.SelfExpired(_logger, nodeId, silence.Silence, silence.Ttl, lease.Session);
            throw new NodeNotFoundException(nodeId);
        }

        if (await _client.RenewSessionAsync(lease.Session, ct).ConfigureAwait(false) is null)
        {
            Forget(nodeId, lease);
            ConsulLog.SessionGone(_logger, lease.Session, nodeId);
            throw new NodeNotFoundException(nodeId);
        }

        await WriteBeatAsync(key, nodeId, lease, started, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>A compare-and-set (<c>?cas=ModifyIndex</c>) on the node's key, which keeps the key's session (the lock),
    /// its recorded TTL, and counts as a heartbeat for watchers; a key without a live session counts as not registered.
    /// Writing the status it already has changes nothing.</remarks>
    public async Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown node status.");
        }

        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var key = _keys.Node(nodeId);
        var started = _liveness.Time.GetTimestamp();
        while (true)
        {
            var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
            if (entry?.Session is null)
            {
                throw new NodeNotFoundException(nodeId);
            }

            var record = ConsulNodeRecord.Decode(entry);
            if (record.Node.Status == status)
            {
                return;
            }

            var next = record with { Node = record.Node with { Status = status }, Beat = record.Beat + 1 };
            if (await _client.PutAsync(key, next.Encode(), KvWrite.CheckAndSet(entry.ModifyIndex), ct).ConfigureAwait(false))
            {
                if (_leases.TryGetValue(nodeId, out var lease) && lease.Session == entry.Session)
                {
                    lease.Wrote(next, modifyIndex: 0, started); // the PUT does not tell the new index: the next heartbeat reads it
                }

                return;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Destroys the node's session, which deletes its key (Behavior=delete); a key left without a session is
    /// deleted with a compare-and-set.</remarks>
    public async Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default)
    {
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var key = _keys.Node(nodeId);
        var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
        var sessions = new HashSet<string>(StringComparer.Ordinal);
        if (_leases.TryRemove(nodeId, out var mine))
        {
            sessions.Add(mine.Session);
        }

        if (entry?.Session is { } holder)
        {
            sessions.Add(holder);
        }

        foreach (var s in sessions)
        {
            await _client.DestroySessionAsync(s, ct).ConfigureAwait(false);
        }

        if (entry is { Session: null })
        {
            await _client.DeleteAsync(key, entry.ModifyIndex, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>The keys held by a session, less those this instance has seen unchanged for longer than the TTL recorded
    /// in them (the watches' rule, on the same per-instance state; a key seen for the first time is live).</remarks>
    public async Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var list = await _client.ListAsync(_keys.NodesPrefix, 0, null, ct).ConfigureAwait(false);
        var listing = _liveness.Observe(list.Entries.Where(IsHeldNodeKey));
        if (listing.Unreadable.Count > 0)
        {
            var bad = listing.Unreadable[0].Error;
            throw new RegistryException(bad.Message, bad);
        }

        return listing.Live.Select(l => l.Node).OrderBy(n => n.Id, StringComparer.Ordinal).ToArray();
    }

    /// <summary>A node key held by a session (the candidates for the live nodes).</summary>
    private bool IsHeldNodeKey(KvEntry e) => e.Session is not null && ConsulKeys.Tail(e.Key, _keys.NodesPrefix) is not null;

    /// <summary>Drops this instance's lease of the node, unless it was replaced meanwhile.</summary>
    private void Forget(string nodeId, NodeLease lease) => _leases.TryRemove(new KeyValuePair<string, NodeLease>(nodeId, lease));

    /// <summary>Rewrites the node's key with the heartbeat counter incremented (check-session + cas in one txn).</summary>
    private async Task WriteBeatAsync(string key, string nodeId, NodeLease lease, long started, CancellationToken ct)
    {
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var (record, index) = lease.Current;
            if (index == 0)
            {
                // Not known (first heartbeat, or someone else wrote the key): read what is there.
                var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
                if (entry is null || entry.Session != lease.Session)
                {
                    Forget(nodeId, lease);
                    ConsulLog.SessionGone(_logger, lease.Session, nodeId);
                    throw new NodeNotFoundException(nodeId);
                }

                var stored = ConsulNodeRecord.Decode(entry);
                record = stored with { Ttl = record.Ttl ?? stored.Ttl };
                index = entry.ModifyIndex;
            }

            var next = record with { Beat = record.Beat + 1 };
            var r = await _client.TxnAsync([TxnKvOp.CheckSession(key, lease.Session), TxnKvOp.Cas(key, next.Encode(), index)], ct).ConfigureAwait(false);
            if (r.Committed)
            {
                var written = r.Results?.Where(x => x.KV?.Key == key).Select(x => x.KV!.ModifyIndex).DefaultIfEmpty(0UL).Max() ?? 0;
                lease.Wrote(next, written, started);
                return;
            }

            lease.Invalidate(); // a status change (or another writer) came first: read the key again
        }

        throw new RegistryException($"Consul at {_client.Address}: the heartbeat of node '{nodeId}' could not rewrite '{key}' in 3 attempts (other writers kept changing it).");
    }

    /// <summary>Acquires the node's key with <paramref name="session"/>, taking it over from an earlier session of the same node.</summary>
    private async Task AcquireNodeKeyAsync(string key, string session, byte[] value, string nodeId, CancellationToken ct)
    {
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            if (await _client.PutAsync(key, value, KvWrite.AcquireWith(session), ct).ConfigureAwait(false))
            {
                return;
            }

            var held = await _client.GetAsync(key, ct).ConfigureAwait(false);
            if (held?.Session is { } other && other != session)
            {
                ConsulLog.TakingOver(_logger, nodeId, other);
                await _client.DestroySessionAsync(other, ct).ConfigureAwait(false); // deletes the key (Behavior=delete)
            }
            else if (held is { Session: null })
            {
                await _client.DeleteAsync(key, held.ModifyIndex, ct).ConfigureAwait(false);
            }
        }

        throw new RegistryException($"Consul at {_client.Address} did not let session {session} acquire '{key}' for node '{nodeId}' after 5 attempts (a lock-delay on the key, or another registration of the same node id racing this one).");
    }

    /// <summary>
    /// What this instance knows of a node it heart-beats: the session holding the key, the record it last wrote, the
    /// key's ModifyIndex after that write (0: unknown), and when that write started on <see cref="ConsulRegistryOptions.TimeProvider"/>.
    /// </summary>
    private sealed class NodeLease(string session, ConsulNodeRecord record, long? writtenAt)
    {
        private readonly Lock _gate = new();
        private ConsulNodeRecord _record = record;
        private long? _writtenAt = writtenAt;
        private ulong _modifyIndex;

        public string Session { get; } = session;

        /// <summary>The key's ModifyIndex after this instance's last write (0: unknown, read the key first).</summary>
        public ulong ModifyIndex
        {
            get
            {
                lock (_gate)
                {
                    return _modifyIndex;
                }
            }

            init => _modifyIndex = value;
        }

        /// <summary>The record last written and the key's index after it.</summary>
        public (ConsulNodeRecord Record, ulong Index) Current
        {
            get
            {
                lock (_gate)
                {
                    return (_record, _modifyIndex);
                }
            }
        }

        /// <summary>Records a write: its record (the TTL this instance registered with is kept), the index it produced (0: unknown), when it started.</summary>
        public void Wrote(ConsulNodeRecord written, ulong modifyIndex, long writtenAt)
        {
            lock (_gate)
            {
                _record = written with { Ttl = _record.Ttl ?? written.Ttl };
                _modifyIndex = modifyIndex;
                _writtenAt = writtenAt;
            }
        }

        /// <summary>Forgets the key's index, so the next heartbeat reads the key before writing it.</summary>
        public void Invalidate()
        {
            lock (_gate)
            {
                _modifyIndex = 0;
            }
        }

        /// <summary>How long since this instance last wrote the key, when that is longer than the node's TTL; else null.</summary>
        public (TimeSpan Silence, TimeSpan Ttl)? SilenceBeyondTtl(TimeProvider time, long now)
        {
            lock (_gate)
            {
                if (_writtenAt is not { } at || _record.Ttl is not { } ttl)
                {
                    return null;
                }

                var silence = time.GetElapsedTime(at, now);
                return silence > ttl ? (silence, ttl) : null;
            }
        }
    }
}
