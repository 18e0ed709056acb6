using System.Runtime.CompilerServices;
using DistributedCron.Registry.Etcd.Client;

namespace DistributedCron.Registry.Etcd;

public sealed partial class EtcdRegistry
{
    /// <inheritdoc />
    /// <remarks>
    /// Reads the nodes at revision R, emits a <c>Snapshot</c>, then watches from R + 1. A broken stream is re-opened
    /// (on another member if needed) from the revision after the last event delivered, so nothing is lost and no
    /// snapshot is needed; if that revision was compacted meanwhile, or the server's revision went backwards (its
    /// data was replaced), the watch re-reads and emits a fresh <c>Snapshot</c>. Lease expiry arrives as a
    /// <c>Removed</c> event. While etcd is unreachable (also before the first snapshot) the watch retries by itself,
    /// delivering nothing; it ends only when <paramref name="ct"/> is cancelled (<see cref="OperationCanceledException"/>)
    /// or the registry is disposed (normal end). Refused credentials or permissions end it with
    /// <see cref="RegistryAuthenticationException"/>.
    /// </remarks>
    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return WatchCore(_keys.NodesPrefix,
            kvs => NodeEvent.Snapshot(SortNodes(kvs)),
            e =>
            {
                if (e.IsDelete)
                {
                    return EtcdKeys.Tail(e.Kv.Key, _keys.NodesPrefix) is { } id ? NodeEvent.Removed(id) : null;
                }

                return NodeEvent.Upserted(Decode<Node>(e.Kv));
            },
            ct);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Tasks and tombstones share one key prefix and one etcd watch, so their events arrive in revision order. Resume
    /// and snapshot rules as for <see cref="WatchNodesAsync"/>.
    /// </remarks>
    public IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return WatchCore(_keys.TasksPrefix,
            kvs =>
            {
                var metas = kvs.Where(kv => EtcdKeys.Tail(kv.Key, _keys.MetaPrefix) is not null);
                var tombs = kvs.Where(kv => EtcdKeys.Tail(kv.Key, _keys.DeletedPrefix) is not null);
                return TaskEvent.Snapshot(DecodeTasks(metas), DecodeTombstones(tombs));
            },
            e =>
            {
                if (EtcdKeys.Tail(e.Kv.Key, _keys.MetaPrefix) is { } name)
                {
                    return e.IsDelete ? TaskEvent.Removed(name) : TaskEvent.Put(Decode<TaskMeta>(e.Kv));
                }

                if (EtcdKeys.Tail(e.Kv.Key, _keys.DeletedPrefix) is { } deleted)
                {
                    return e.IsDelete ? TaskEvent.Restored(deleted) : TaskEvent.Tombstoned(deleted);
                }

                return null;
            },
            ct);
    }

    private async IAsyncEnumerable<T> WatchCore<T>(string prefix, Func<List<KeyValue>, T> snapshot, Func<WatchEvent, T?> map,
        [EnumeratorCancellation] CancellationToken ct)
        where T : class
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposed.Token);
        await using var loop = new WatchLoop<T>(this, prefix, snapshot, map);
        while (true)
        {
            IReadOnlyList<T>? batch;
            try
            {
                batch = await loop.NextAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                batch = null; // the registry was disposed: a normal end
            }
            catch (ObjectDisposedException) when (_disposed.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                batch = null;
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

    /// <summary>The state of one watch: the next revision to ask for, the open stream, the retry delay.</summary>
    private sealed class WatchLoop<T>(EtcdRegistry owner, string prefix, Func<List<KeyValue>, T> snapshot, Func<WatchEvent, T?> map)
        : IAsyncDisposable
        where T : class
    {
        private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
        private readonly byte[] _key = EtcdKeys.Bytes(prefix);
        private readonly byte[] _end = EtcdKeys.PrefixEnd(prefix);
        private IEtcdWatchStream? _stream;
        private long _next;
        private bool _needSnapshot = true;
        private bool _broken;
        private int _failures;

        public async Task<IReadOnlyList<T>> NextAsync(CancellationToken ct)
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (_needSnapshot)
                {
                    try
                    {
                        var (kvs, revision) = await owner.RangePrefixAsync(prefix, keysOnly: false, ct).ConfigureAwait(false);
                        _needSnapshot = false;
                        _next = revision + 1;
                        return [snapshot(kvs)];
                    }
                    catch (RegistryUnavailableException ex)
                    {
                        await BackoffAsync(ex, ct).ConfigureAwait(false);
                        continue;
                    }
                }

                if (_stream is null)
                {
                    if (_broken && owner.BeforeWatchReconnect is { } hook)
                    {
                        await hook(ct).ConfigureAwait(false);
                    }

                    try
                    {
                        _stream = await owner._client.WatchAsync(new WatchCreateRequest
                        {
                            Key = _key,
                            RangeEnd = _end,
                            StartRevision = _next,
                        }, ct).ConfigureAwait(false);
                    }
                    catch (RegistryUnavailableException ex)
                    {
                        _broken = true;
                        await BackoffAsync(ex, ct).ConfigureAwait(false);
                        continue;
                    }

                    var created = _stream.Created;
                    if (created.Canceled && created.CompactRevision > 0)
                    {
                        await CompactedAsync(created.CompactRevision).ConfigureAwait(false);
                        continue;
                    }

                    if (created.Header.Revision > 0 && created.Header.Revision < _next - 1)
                    {
                        EtcdLog.RevisionWentBack(owner._logger, _stream.Endpoint, created.Header.Revision, _next - 1, prefix);
                        await DropStreamAsync().ConfigureAwait(false);
                        _needSnapshot = true;
                        continue;
                    }

                    if (_broken)
                    {
                        EtcdLog.WatchResumed(owner._logger, prefix, _next, _stream.Endpoint);
                    }

                    _failures = 0;
                    _broken = false;
                }

                WatchResponse response;
                try
                {
                    response = await _stream.ReadAsync(ct).ConfigureAwait(false);
                }
                catch (RegistryUnavailableException ex)
                {
                    await DropStreamAsync().ConfigureAwait(false);
                    _broken = true;
                    await BackoffAsync(ex, ct).ConfigureAwait(false);
                    continue;
                }

                if (response.Canceled)
                {
                    if (response.CompactRevision > 0)
                    {
                        await CompactedAsync(response.CompactRevision).ConfigureAwait(false);
                    }
                    else
                    {
                        await DropStreamAsync().ConfigureAwait(false);
                        _broken = true;
                        await BackoffAsync(new RegistryUnavailableException($"etcd cancelled the watch: {response.CancelReason}"), ct).ConfigureAwait(false);
                    }

                    continue;
                }

                if (response.Events.Count == 0)
                {
                    continue; // a progress notification
                }

                var batch = new List<T>(response.Events.Count);
                foreach (var e in response.Events)
                {
                    if (e.Kv.ModRevision >= _next)
                    {
                        _next = e.Kv.ModRevision + 1;
                    }

                    if (map(e) is { } mapped)
                    {
                        batch.Add(mapped);
                    }
                }

                if (batch.Count > 0)
                {
                    return batch;
                }
            }
        }

        public ValueTask DisposeAsync() => DropStreamAsync();

        private async Task CompactedAsync(long compactRevision)
        {
            EtcdLog.WatchCompacted(owner._logger, prefix, _next, compactRevision);
            await DropStreamAsync().ConfigureAwait(false);
            _broken = true;
            _needSnapshot = true;
        }

        private async ValueTask DropStreamAsync()
        {
            if (_stream is { } s)
            {
                _stream = null;
                await s.DisposeAsync().ConfigureAwait(false);
            }
        }

        /// <summary>The first retry after a break is immediate (the client moves to another member); then 100 ms doubling.</summary>
        private async Task BackoffAsync(Exception reason, CancellationToken ct)
        {
            _failures++;
            if (_failures == 1 || _failures % 30 == 0)
            {
                EtcdLog.WatchInterrupted(owner._logger, prefix, _failures, reason.Message);
            }
            else
            {
                EtcdLog.WatchStillInterrupted(owner._logger, prefix, _failures, reason.Message);
            }

            if (_failures == 1)
            {
                return;
            }

            var delay = TimeSpan.FromTicks(Math.Min(FirstDelay.Ticks << Math.Min(_failures - 2, 10), owner._options.WatchMaxRetryDelay.Ticks));
            await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }
}
