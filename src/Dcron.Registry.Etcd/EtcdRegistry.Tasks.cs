using DistributedCron.Registry.Etcd.Client;

namespace DistributedCron.Registry.Etcd;

public sealed partial class EtcdRegistry
{
    /// <inheritdoc />
    /// <remarks>One txn: if neither the tombstone nor the metadata exists, write the metadata; otherwise read the
    /// tombstone to tell <see cref="AddTaskResult.Deleted"/> (which wins) from <see cref="AddTaskResult.Exists"/>.</remarks>
    /// <exception cref="ArgumentException">The task name is illegal or the cron format is empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <see cref="EtcdRegistryOptions.MaxPayloadBytes"/>.</exception>
    public async Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        ThrowIfDisposed();
        var meta = _keys.Meta(task.Name);
        var tomb = _keys.Deleted(task.Name);
        var result = await _client.TxnAsync(new TxnRequest
        {
            Compare = [Compare.Absent(tomb), Compare.Absent(meta)],
            Success = [RequestOp.Put(new PutRequest { Key = meta, Value = Encode(task) })],
            Failure = [RequestOp.Range(new RangeRequest { Key = tomb, CountOnly = true })],
        }, ct).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return AddTaskResult.Added;
        }

        var tombstoned = result.Responses.Count > 0 && result.Responses[0].ResponseRange is { Count: > 0 };
        return tombstoned ? AddTaskResult.Deleted : AddTaskResult.Exists;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal or the cron format is empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <see cref="EtcdRegistryOptions.MaxPayloadBytes"/>.</exception>
    public async Task PutTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        ThrowIfDisposed();
        await _client.PutAsync(new PutRequest { Key = _keys.Meta(task.Name), Value = Encode(task) }, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        var (kvs, _) = await RangePrefixAsync(_keys.MetaPrefix, keysOnly: false, ct).ConfigureAwait(false);
        return DecodeTasks(kvs);
    }

    /// <inheritdoc />
    /// <remarks>Writes the tombstone only if it does not exist yet, so a repeated call announces nothing.</remarks>
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public async Task MarkTaskDeletedAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        ThrowIfDisposed();
        var tomb = _keys.Deleted(name);
        await _client.TxnAsync(new TxnRequest
        {
            Compare = [Compare.Absent(tomb)],
            Success = [RequestOp.Put(new PutRequest { Key = tomb, Value = [] })],
        }, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public async Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        ThrowIfDisposed();
        await _client.DeleteRangeAsync(new DeleteRangeRequest { Key = _keys.Deleted(name) }, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        var (kvs, _) = await RangePrefixAsync(_keys.DeletedPrefix, keysOnly: true, ct).ConfigureAwait(false);
        return DecodeTombstones(kvs);
    }

    /// <inheritdoc />
    /// <remarks>One txn deleting the three keys of the task.</remarks>
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public async Task ForceCleanupTaskAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        ThrowIfDisposed();
        _fireHints.TryRemove(name, out _);
        await _client.TxnAsync(new TxnRequest
        {
            Success =
            [
                RequestOp.Delete(new DeleteRangeRequest { Key = _keys.Meta(name) }),
                RequestOp.Delete(new DeleteRangeRequest { Key = _keys.Deleted(name) }),
                RequestOp.Delete(new DeleteRangeRequest { Key = _keys.Fire(name) }),
            ],
        }, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>One txn deleting the task and fire-state prefixes of this namespace.</remarks>
    public async Task ForceCleanupAllTasksAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        _fireHints.Clear();
        await _client.TxnAsync(new TxnRequest
        {
            Success =
            [
                RequestOp.Delete(new DeleteRangeRequest { Key = EtcdKeys.Bytes(_keys.TasksPrefix), RangeEnd = EtcdKeys.PrefixEnd(_keys.TasksPrefix) }),
                RequestOp.Delete(new DeleteRangeRequest { Key = EtcdKeys.Bytes(_keys.FiresPrefix), RangeEnd = EtcdKeys.PrefixEnd(_keys.FiresPrefix) }),
            ],
        }, ct).ConfigureAwait(false);
    }

    private static Dictionary<string, TaskMeta> DecodeTasks(IEnumerable<KeyValue> kvs)
    {
        var tasks = new Dictionary<string, TaskMeta>(StringComparer.Ordinal);
        foreach (var kv in kvs)
        {
            var meta = Decode<TaskMeta>(kv);
            tasks[meta.Name] = meta;
        }

        return tasks;
    }

    private HashSet<string> DecodeTombstones(IEnumerable<KeyValue> kvs)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kv in kvs)
        {
            if (EtcdKeys.Tail(kv.Key, _keys.DeletedPrefix) is { } name)
            {
                names.Add(name);
            }
        }

        return names;
    }
}
