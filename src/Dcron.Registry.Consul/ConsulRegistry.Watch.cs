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
    /// whole prefix, which is compared with the previous one: new or changed keys (by ModifyIndex) become
    /// <c>Upserted</c> in index order, vanished ones <c>Removed</c> (an expired session deletes its node's key, so
    /// expiry arrives as <c>Removed</c>). Consul may fold several changes into one answer, so intermediate states can
    /// be skipped, never reordered. The first answer, the first answer after errors, and an answer whose
    /// X-Consul-Index went backwards or is 0 (Consul's reset rule) are emitted as a fresh <c>Snapshot</c>. While
    /// Consul is unreachable or refuses the token the watch retries by itself (100 ms doubling up to
    /// <see cref="ConsulRegistryOptions.WatchMaxRetryDelay"/>), delivering nothing; it ends only when
    /// <paramref name="ct"/> is cancelled (<see cref="OperationCanceledException"/>) or the registry is disposed
    /// (normal end).
    /// </remarks>
    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return WatchCore(_keys.NodesPrefix, IsLiveNode, list => NodeEvent.Snapshot(DecodeNodes(list, skipUnreadable: true).Values.ToList()), DiffNodes, ct);
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
        return WatchCore(_keys.TasksPrefix, IsTaskKey, list => TaskEvent.Snapshot(DecodeTasks(list, skipUnreadable: true), DecodeTombstones(list)), DiffTasks, ct);
    }

    private bool IsLiveNode(KvEntry e) => e.Session is not null && ConsulKeys.Tail(e.Key, _keys.NodesPrefix) is not null;

    private bool IsTaskKey(KvEntry e) => ConsulKeys.Tail(e.Key, _keys.MetaPrefix) is not null || ConsulKeys.Tail(e.Key, _keys.DeletedPrefix) is not null;

    private void DiffNodes(Dictionary<string, KvEntry> before, Dictionary<string, KvEntry> after, List<NodeEvent> events)
    {
        foreach (var key in before.Keys.Where(k => !after.ContainsKey(k)))
        {
            events.Add(NodeEvent.Removed(ConsulKeys.Tail(key, _keys.NodesPrefix)!));
        }

        foreach (var e in Changed(before, after))
        {
            foreach (var node in DecodeNodes([e], skipUnreadable: true).Values)
            {
                events.Add(NodeEvent.Upserted(node));
            }
        }
    }

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

    private async IAsyncEnumerable<T> WatchCore<T>(string prefix, Func<KvEntry, bool> relevant, Func<IReadOnlyList<KvEntry>, T> snapshot,
        Action<Dictionary<string, KvEntry>, Dictionary<string, KvEntry>, List<T>> diff, [EnumeratorCancellation] CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposed.Token);
        var loop = new WatchLoop<T>(this, prefix, relevant, snapshot, diff);
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

    /// <summary>The state of one watch: the index to block on, the last view of the prefix, the retry delay.</summary>
    private sealed class WatchLoop<T>(ConsulRegistry owner, string prefix, Func<KvEntry, bool> relevant, Func<IReadOnlyList<KvEntry>, T> snapshot,
        Action<Dictionary<string, KvEntry>, Dictionary<string, KvEntry>, List<T>> diff)
    {
        private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
        private Dictionary<string, KvEntry> _view = new(StringComparer.Ordinal);
        private ulong _index;
        private bool _needSnapshot = true;
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
                    answer = await owner._client.ListAsync(prefix, _index, _index > 0 ? owner._options.BlockingWait : null, ct).ConfigureAwait(false);
                }
                catch (RegistryException ex)
                {
                    _index = 0;
                    _needSnapshot = true;
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
                    if (++_resets > 1)
                    {
                        await Task.Delay(RetryDelay(_resets), ct).ConfigureAwait(false);
                    }
                }
                else
                {
                    _resets = 0;
                }

                var current = new Dictionary<string, KvEntry>(StringComparer.Ordinal);
                foreach (var e in answer.Entries)
                {
                    if (relevant(e))
                    {
                        current[e.Key] = e;
                    }
                }

                var batch = new List<T>();
                if (_needSnapshot)
                {
                    batch.Add(snapshot(current.Values.ToList()));
                    _needSnapshot = false;
                }
                else
                {
                    diff(_view, current, batch);
                }

                _view = current;
                _index = Math.Max(answer.Index, 1); // never block below 1
                if (batch.Count > 0)
                {
                    return batch;
                }

                // Nothing changed for us (a timeout, or a write elsewhere that moved the index): rate-limit the loop.
                var idle = Stopwatch.GetElapsedTime(started);
                if (idle < MinIdleQueryInterval)
                {
                    await Task.Delay(MinIdleQueryInterval - idle, ct).ConfigureAwait(false);
                }
            }
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
