using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.ZooKeeper;

public sealed partial class ZooKeeperRegistry
{
    /// <inheritdoc />
    /// <remarks>
    /// A child watch on <c>nodes</c> and a data watch on every node's znode (so status changes are seen too),
    /// re-armed by every re-read. After a reconnect or a session expiry of the registry's main session the watch
    /// re-reads everything and emits a fresh snapshot. It ends normally when the registry is disposed and throws
    /// <see cref="OperationCanceledException"/> when <paramref name="ct"/> is cancelled.
    /// </remarks>
    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        return WatchNodesCore(ct);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A child watch on <c>tasks</c> and a data watch on every task's znode, re-armed by every re-read; a fresh
    /// snapshot after a reconnect. Changes that happen between a notification and its re-read are folded into one
    /// observation (ZooKeeper's watches are one-shot): the events always lead through states each name really had, in
    /// order, and a folded change of both metadata and tombstone is sent as a snapshot. It ends normally when the registry is disposed and
    /// throws <see cref="OperationCanceledException"/> when <paramref name="ct"/> is cancelled.
    /// </remarks>
    public IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        return WatchTasksCore(ct);
    }

    private async IAsyncEnumerable<NodeEvent> WatchNodesCore([EnumeratorCancellation] CancellationToken ct)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal); // znode name -> node id
        await foreach (var change in WatchDirectories([new ZkWatchedDirectory(_paths.Nodes, ReadData: true)], ct).ConfigureAwait(false))
        {
            switch (change)
            {
                case ZkDirectoryChange.Snapshot s:
                    ids.Clear();
                    var nodes = new List<Node>();
                    foreach (var (name, entry) in s.Directories[0])
                    {
                        if (Decode<Node>(_paths.Nodes, name, entry) is { } n)
                        {
                            ids[name] = n.Id;
                            nodes.Add(n);
                        }
                    }

                    yield return NodeEvent.Snapshot(nodes);
                    break;
                case ZkDirectoryChange.Upsert u:
                    if (Decode<Node>(_paths.Nodes, u.Name, u.Entry) is { } node)
                    {
                        ids[u.Name] = node.Id;
                        yield return NodeEvent.Upserted(node);
                    }

                    break;
                case ZkDirectoryChange.Remove r:
                    if (ids.Remove(r.Name, out var id))
                    {
                        yield return NodeEvent.Removed(id);
                    }

                    break;
            }
        }
    }

    private async IAsyncEnumerable<TaskEvent> WatchTasksCore([EnumeratorCancellation] CancellationToken ct)
    {
        var view = new Dictionary<string, TaskRecord>(StringComparer.Ordinal);
        await foreach (var change in WatchDirectories([new ZkWatchedDirectory(_paths.Tasks, ReadData: true)], ct).ConfigureAwait(false))
        {
            switch (change)
            {
                case ZkDirectoryChange.Snapshot s:
                    view.Clear();
                    foreach (var (name, entry) in s.Directories[0])
                    {
                        if (Decode<TaskRecord>(_paths.Tasks, name, entry) is { } rec)
                        {
                            view[name] = rec;
                        }
                    }

                    yield return TaskSnapshot(view);
                    break;
                case ZkDirectoryChange.Upsert u:
                    if (Decode<TaskRecord>(_paths.Tasks, u.Name, u.Entry) is { } next)
                    {
                        var old = view.GetValueOrDefault(u.Name);
                        view[u.Name] = next;
                        if (TaskChange(u.Name, old, next, view) is { } e)
                        {
                            yield return e;
                        }
                    }

                    break;
                case ZkDirectoryChange.Remove r:
                    if (view.Remove(r.Name, out var gone) && TaskChange(r.Name, gone, null, view) is { } removed)
                    {
                        yield return removed;
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// The event for one observed change of a task record. When both the metadata and the tombstone changed
    /// (several writes folded into one observation) no single event leads only through states the name really had,
    /// so the whole view is re-sent as a snapshot.
    /// </summary>
    private static TaskEvent? TaskChange(string name, TaskRecord? old, TaskRecord? next, Dictionary<string, TaskRecord> view)
    {
        var oldMeta = old?.Meta;
        var newMeta = next?.Meta;
        var tombChanged = (old?.Deleted ?? false) != (next?.Deleted ?? false);

        // A rewrite that changed neither field is a put of the same metadata: report it as a put.
        var metaChanged = !Equals(oldMeta, newMeta) || (newMeta is not null && !tombChanged);
        return (metaChanged, tombChanged) switch
        {
            (true, true) => TaskSnapshot(view),
            (true, false) => newMeta is not null ? TaskEvent.Put(newMeta) : TaskEvent.Removed(name),
            (false, true) => next?.Deleted == true ? TaskEvent.Tombstoned(name) : TaskEvent.Restored(name),
            _ => null,
        };
    }

    private static TaskEvent TaskSnapshot(Dictionary<string, TaskRecord> view) => TaskEvent.Snapshot(
        view.Where(v => v.Value.Meta is not null).ToDictionary(v => v.Key, v => v.Value.Meta!, StringComparer.Ordinal),
        new HashSet<string>(view.Where(v => v.Value.Deleted).Select(v => v.Key), StringComparer.Ordinal));

    /// <summary>Runs a directory watch until <paramref name="ct"/> is cancelled (throws) or the registry is disposed (ends).</summary>
    private async IAsyncEnumerable<ZkDirectoryChange> WatchDirectories(IReadOnlyList<ZkWatchedDirectory> dirs, [EnumeratorCancellation] CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposed.Token);
        var watch = new ZkDirectoryWatch(_client, dirs, EnsureLayoutAsync, InvalidateLayout, _options.WatchMaxRetryDelay, _logger);
        var e = watch.RunAsync(linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await e.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && _isDisposed && !ct.IsCancellationRequested)
                {
                    yield break;
                }

                if (!more)
                {
                    yield break;
                }

                yield return e.Current;
            }
        }
        finally
        {
            await e.DisposeAsync().ConfigureAwait(false);
        }
    }

    private T? Decode<T>(string dir, string name, ZkEntry entry)
        where T : class
    {
        try
        {
            return RegistryJson.Deserialize<T>(Utf8(entry.Data));
        }
        catch (RegistryException ex)
        {
            Log.CorruptEntry(_logger, dir, name, ex.Message);
            return null;
        }
    }
}
