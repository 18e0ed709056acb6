using System.Diagnostics;
using System.Runtime.CompilerServices;
using DistributedCron.Registry.Consul.Client;

namespace DistributedCron.Registry.Consul;

public sealed partial class ConsulRegistry
{
    /// <summary>The shortest time between two blocking queries of one watch that brought no change (Consul's advice: rate-limit the loop).</summary>
    internal static readonly TimeSpan MinIdleQueryInterval = TimeSpan.FromMilliseconds(50);

    /// <inheritdoc />
    /// <remarks>
    /// A blocking-query loop on <c>{Namespace}/nodes/</c> (<c>?recurse&amp;index=…&amp;wait=…</c>). Each answer is the
    /// whole prefix. The live nodes in it are the keys held by a session whose ModifyIndex changed within the TTL the
    /// node registered with, timed on this instance's monotonic clock (every heartbeat rewrites the key; a key seen for
    /// the first time starts its clock then). They are compared with the nodes emitted before: a new node or one whose
    /// record changed (status, weight, …; not the heartbeat counter) becomes <c>Upserted</c> in index order, one no
    /// longer live <c>Removed</c>: unregistered, its session expired, or silent for longer than its TTL. A silent node
    /// whose key changes again comes back as <c>Upserted</c>. The wait of each query is cut to the next node's
    /// silence deadline (less Consul's jitter), so a dead node is dropped on time even when nothing else is written.
    /// Consul may fold several changes into one answer, so intermediate states can be skipped, never reordered. The
    /// first answer, the first answer after errors, and an answer whose X-Consul-Index went backwards or is 0
    /// (Consul's reset rule) are emitted as a fresh <c>Snapshot</c>; after errors or a reset every node gets a full TTL
    /// again. While Consul is unreachable or refuses the token the watch retries by itself (100 ms doubling up to
    /// <see cref="ConsulRegistryOptions.WatchMaxRetryDelay"/>), delivering nothing; it ends only when
    /// <paramref name="ct"/> is cancelled (<see cref="OperationCanceledException"/>) or the registry is disposed
    /// (normal end).
    /// </remarks>
    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return WatchCore(_keys.NodesPrefix, new NodeFold(this), ct);
    }

    /// <inheritdoc />
    /// <remarks>
    /// One blocking-query loop on <c>{Namespace}/tasks/</c>, which holds both metadata and tombstones, so their changes
    /// come through one index. Metadata keys become <c>Put</c> / <c>Removed</c>, tombstone keys <c>Tombstoned</c> /
    /// <c>Restored</c>. Snapshot, retry and end rules as for <see cref="WatchNodesAsync"/>.
    /// </remarks>
    public IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return WatchCore(_keys.TasksPrefix, new KvFold<TaskEvent>(IsTaskKey, list => TaskEvent.Snapshot(DecodeTasks(list, skipUnreadable: true), DecodeTombstones(list)), DiffTasks), ct);
    }

    private bool IsTaskKey(KvEntry e) => ConsulKeys.Tail(e.Key, _keys.MetaPrefix) is not null || ConsulKeys.Tail(e.Key, _keys.DeletedPrefix) is not null;

    private void DiffTasks(Dictionary<string, KvEntry> before, Dictionary<string, KvEntry> after, List<TaskEvent> events)
    {
        foreach (var key in before.Keys.Where(k => !after.ContainsKey(k)))
        {
            if (ConsulKeys.Tail(key, _keys.MetaPrefix) is { } meta)
            {
                events.Add(TaskEvent.Removed(meta));
            }
            else if (ConsulKeys.Tail(key, _keys.DeletedPrefix) is { } restored)
            {
                events.Add(TaskEvent.Restored(restored));
            }
        }

        foreach (var e in Changed(before, after))
        {
            if (ConsulKeys.Tail(e.Key, _keys.MetaPrefix) is not null)
            {
                foreach (var task in DecodeTasks([e], skipUnreadable: true).Values)
                {
                    events.Add(TaskEvent.Put(task));
                }
            }
            else if (!before.ContainsKey(e.Key) && ConsulKeys.Tail(e.Key, _keys.DeletedPrefix) is { } tombstoned)
            {
                events.Add(TaskEvent.Tombstoned(tombstoned));
            }
        }
    }

    /// <summary>Entries of <paramref name="after"/> that are new or have another ModifyIndex, in index order.</summary>
    private static IEnumerable<KvEntry> Changed(Dictionary<string, KvEntry> before, Dictionary<string, KvEntry> after) =>
        after.Values.Where(e => !before.TryGetValue(e.Key, out var old) || old.ModifyIndex != e.ModifyIndex)
            .OrderBy(e => e.ModifyIndex).ThenBy(e => e.Key, StringComparer.Ordinal);

    private async IAsyncEnumerable<T> WatchCore<T>(string prefix, IWatchFold<T> fold, [EnumeratorCancellation] CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposed.Token);
        var loop = new WatchLoop<T>(this, prefix, fold);
        while (true)
        {
            List<T>? batch;
            try
            {
                batch = await loop.NextAsync(linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && _disposed.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                batch = null; // the registry was disposed: a normal end
            }

            if (batch is null)
            {
                yield break;
            }

            foreach (var e in batch)
            {
                yield return e;
            }
        }
    }

    /// <summary>
    /// The wait of a blocking query that must answer by a deadline <paramref name="remaining"/> away: Consul adds up to
    /// wait/16 of jitter, so 16/17 of the time left (the answer then comes by the deadline, and a last short query
    /// crosses it), at least <see cref="MinIdleQueryInterval"/> so the loop never spins, at most <paramref name="longest"/>.
    /// </summary>
    internal static TimeSpan WaitUntilDeadline(TimeSpan remaining, TimeSpan longest)
    {
        var wait = remaining <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(remaining.Ticks / 17 * 16);
        if (wait < MinIdleQueryInterval)
        {
            wait = MinIdleQueryInterval;
        }

        return wait < longest ? wait : longest;
    }

    /// <summary>Turns the answers of one watch's blocking queries into events.</summary>
    private interface IWatchFold<T>
    {
        /// <summary>Folds one answer (the whole prefix) into <paramref name="events"/>.</summary>
        /// <param name="entries">The answer's entries.</param>
        /// <param name="fresh">Emit a <c>Snapshot</c> (first answer, after errors, after a reset) instead of changes.</param>
        /// <param name="interrupted">The watch was cut off (errors) or reset since its previous answer.</param>
        /// <param name="events">Where the events go.</param>
        void Apply(IReadOnlyList<KvEntry> entries, bool fresh, bool interrupted, List<T> events);

        /// <summary>How long the next blocking query may wait at most, or null for <see cref="ConsulRegistryOptions.BlockingWait"/>.</summary>
        TimeSpan? MaxWait();
    }

    /// <summary>A watch whose events follow the keys' ModifyIndex (tasks and tombstones).</summary>
    private sealed class KvFold<T>(Func<KvEntry, bool> relevant, Func<IReadOnlyList<KvEntry>, T> snapshot,
        Action<Dictionary<string, KvEntry>, Dictionary<string, KvEntry>, List<T>> diff) : IWatchFold<T>
    {
        private Dictionary<string, KvEntry> _view = new(StringComparer.Ordinal);

        public void Apply(IReadOnlyList<KvEntry> entries, bool fresh, bool interrupted, List<T> events)
        {
            var current = new Dictionary<string, KvEntry>(StringComparer.Ordinal);
            foreach (var e in entries)
            {
                if (relevant(e))
                {
                    current[e.Key] = e;
                }
            }

            if (fresh)
            {
                events.Add(snapshot(current.Values.ToList()));
            }
            else
            {
                diff(_view, current, events);
            }

            _view = current;
        }

        public TimeSpan? MaxWait() => null;
    }

    /// <summary>
    /// The node watch: the live nodes by <see cref="ConsulNodeLiveness"/> (shared with <see cref="GetNodesAsync"/>),
    /// compared by record with those emitted before, so heartbeats that change only the counter emit nothing.
    /// </summary>
    private sealed class NodeFold(ConsulRegistry owner) : IWatchFold<NodeEvent>
    {
        private Dictionary<string, LiveNode> _emitted = new(StringComparer.Ordinal);
        private long? _deadline;

        public void Apply(IReadOnlyList<KvEntry> entries, bool fresh, bool interrupted, List<NodeEvent> events)
        {
            if (interrupted)
            {
                owner._liveness.Restart(); // silence while cut off is not the nodes' fault: a full TTL for everyone
            }

            var listing = owner._liveness.Observe(entries.Where(owner.IsHeldNodeKey));
            foreach (var u in listing.Unreadable.Where(u => u.New))
            {
                ConsulLog.SkippedRecord(owner._logger, u.Error, u.Key, owner._keys.NodesPrefix);
            }

            _deadline = listing.NextDeadline;
            var current = new Dictionary<string, LiveNode>(StringComparer.Ordinal);
            foreach (var n in listing.Live)
            {
                current[n.Key] = n;
            }

            if (fresh)
            {
                events.Add(NodeEvent.Snapshot(listing.Live.Select(n => n.Node).ToList()));
            }
            else
            {
                foreach (var key in _emitted.Keys.Where(k => !current.ContainsKey(k)).Order(StringComparer.Ordinal))
                {
                    events.Add(NodeEvent.Removed(_emitted[key].Node.Id));
                }

                var changed = listing.Live.Where(n => !_emitted.TryGetValue(n.Key, out var old) || old.Node != n.Node)
                    .OrderBy(n => n.ModifyIndex).ThenBy(n => n.Key, StringComparer.Ordinal);
                foreach (var n in changed)
                {
                    events.Add(NodeEvent.Upserted(n.Node));
                }
            }

            _emitted = current;
        }

        public TimeSpan? MaxWait() => _deadline is { } d ? owner._liveness.Until(d) : null;
    }

    /// <summary>The state of one watch: the index to block on, whether a snapshot is due, the retry delay.</summary>
    private sealed class WatchLoop<T>(ConsulRegistry owner, string prefix, IWatchFold<T> fold)
    {
        private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
        private ulong _index;
        private bool _needSnapshot = true;
        private bool _interrupted;
        private int _failures;
        private int _resets;

        public async Task<List<T>> NextAsync(CancellationToken ct)
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var started = Stopwatch.GetTimestamp();
                KvList answer;
                try
                {
                    // Index 0 is a plain read (first read, after errors, after a reset); otherwise it blocks.
                    answer = await owner._client.ListAsync(prefix, _index, _index > 0 ? Wait() : null, ct).ConfigureAwait(false);
                }
                catch (RegistryException ex)
                {
                    _index = 0;
                    _needSnapshot = true;
                    _interrupted = true;
                    await BackoffAsync(ex, ct).ConfigureAwait(false);
                    continue;
                }

                if (_failures > 0)
                {
                    ConsulLog.WatchResumed(owner._logger, prefix, _failures);
                    _failures = 0;
                }

                if (_index > 0 && (answer.Index == 0 || answer.Index < _index))
                {
                    // Consul's rule: an index that went backwards (or 0) means "start again from 0". This answer is
                    // what a read with index 0 returns, so it becomes the fresh snapshot and blocking resumes from it.
                    // Resets in a row (a proxy that keeps answering 0) back off like errors, so the loop never runs hot.
                    ConsulLog.IndexReset(owner._logger, prefix, _index, answer.Index);
                    _needSnapshot = true;
                    _interrupted = true;
                    if (++_resets > 1)
                    {
                        await Task.Delay(RetryDelay(_resets), ct).ConfigureAwait(false);
                    }
                }
                else
                {
                    _resets = 0;
                }

                var batch = new List<T>();
                fold.Apply(answer.Entries, _needSnapshot, _interrupted, batch);
                _needSnapshot = false;
                _interrupted = false;
                _index = Math.Max(answer.Index, 1); // never block below 1
                if (batch.Count > 0)
                {
                    return batch;
                }

                // Nothing changed for us (a timeout, a heartbeat, or a write elsewhere that moved the index): rate-limit the loop.
                var idle = Stopwatch.GetElapsedTime(started);
                if (idle < MinIdleQueryInterval)
                {
                    await Task.Delay(MinIdleQueryInterval - idle, ct).ConfigureAwait(false);
                }
            }
        }

        /// <summary>The blocking wait: <see cref="ConsulRegistryOptions.BlockingWait"/>, cut to the fold's next deadline.</summary>
        private TimeSpan Wait()
        {
            var longest = owner._options.BlockingWait;
            return fold.MaxWait() is { } cap ? WaitUntilDeadline(cap, longest) : longest;
        }

        /// <summary>The first retry after a failure is immediate; then 100 ms doubling up to WatchMaxRetryDelay.</summary>
        private async Task BackoffAsync(Exception reason, CancellationToken ct)
        {
            _failures++;
            if (_failures == 1 || _failures % 30 == 0)
            {
                ConsulLog.WatchInterrupted(owner._logger, prefix, _failures, reason.Message);
            }
            else
            {
                ConsulLog.WatchStillInterrupted(owner._logger, prefix, _failures, reason.Message);
            }

            if (_failures == 1)
            {
                return;
            }

            await Task.Delay(RetryDelay(_failures), ct).ConfigureAwait(false);
        }

        /// <summary>100 ms for the second attempt, doubling up to WatchMaxRetryDelay.</summary>
        private TimeSpan RetryDelay(int attempt) =>
            TimeSpan.FromTicks(Math.Min(FirstDelay.Ticks << Math.Min(attempt - 2, 10), owner._options.WatchMaxRetryDelay.Ticks));
    }
}
