using DistributedCron.Registry.Consul.Client;

namespace DistributedCron.Registry.Consul;

public sealed partial class ConsulRegistry
{
    /// <inheritdoc />
    /// <remarks>
    /// One <c>/v1/txn</c>: <c>check-not-exists</c> on the tombstone, then <c>cas</c> with index 0 (create only) on the
    /// metadata, so the check and the write are one atomic step on the Consul leader. A rolled-back transaction
    /// names the failing operations: a failed tombstone check means <see cref="AddTaskResult.Deleted"/> (the
    /// tombstone wins even when metadata exists too), otherwise <see cref="AddTaskResult.Exists"/>.
    /// </remarks>
    public async Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var r = await _client.TxnAsync(
            [TxnKvOp.CheckNotExists(_keys.Deleted(task.Name)), TxnKvOp.Cas(_keys.Meta(task.Name), Encode(task), 0)], ct).ConfigureAwait(false);
        if (r.Committed)
        {
            return AddTaskResult.Added;
        }

        var failed = r.Errors!.Select(e => e.OpIndex).ToHashSet();
        if (failed.Contains(0))
        {
            return AddTaskResult.Deleted;
        }

        return failed.Contains(1)
            ? AddTaskResult.Exists
            : throw new ConsulApiException($"Consul at {_client.Address} rolled back the add of task '{task.Name}': {string.Join("; ", r.Errors!.Select(e => e.What))}",
                _client.Address, System.Net.HttpStatusCode.Conflict, null);
    }

    /// <inheritdoc />
    public async Task PutTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        await RequireTrueAsync(_client.PutAsync(_keys.Meta(task.Name), Encode(task), KvWrite.Plain, ct), "store task", task.Name).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var list = await _client.ListAsync(_keys.MetaPrefix, 0, null, ct).ConfigureAwait(false);
        return DecodeTasks(list.Entries, skipUnreadable: false);
    }

    /// <inheritdoc />
    /// <remarks>Writes the tombstone key (an empty value); marking twice changes nothing.</remarks>
    public async Task MarkTaskDeletedAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name);
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        await RequireTrueAsync(_client.PutAsync(_keys.Deleted(name), [], KvWrite.Plain, ct), "tombstone task", name).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name);
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        await RequireTrueAsync(_client.DeleteAsync(_keys.Deleted(name), null, ct), "remove the tombstone of task", name).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var keys = await _client.KeysAsync(_keys.DeletedPrefix, ct).ConfigureAwait(false);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var k in keys)
        {
            if (ConsulKeys.Tail(k, _keys.DeletedPrefix) is { } name)
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <inheritdoc />
    /// <remarks>One <c>/v1/txn</c> deleting the metadata, the tombstone and the fire state.</remarks>
    public async Task ForceCleanupTaskAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name);
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var r = await _client.TxnAsync(
            [TxnKvOp.Delete(_keys.Meta(name)), TxnKvOp.Delete(_keys.Deleted(name)), TxnKvOp.Delete(_keys.Fire(name))], ct).ConfigureAwait(false);
        RequireCommitted(r, $"clean up task '{name}'");
    }

    /// <inheritdoc />
    /// <remarks>One <c>/v1/txn</c> of two <c>delete-tree</c>s: <c>{Namespace}/tasks/</c> and <c>{Namespace}/fires/</c>.</remarks>
    public async Task ForceCleanupAllTasksAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var r = await _client.TxnAsync([TxnKvOp.DeleteTree(_keys.TasksPrefix), TxnKvOp.DeleteTree(_keys.FiresPrefix)], ct).ConfigureAwait(false);
        RequireCommitted(r, $"clean up every task of namespace '{Namespace}'");
    }

    private Dictionary<string, TaskMeta> DecodeTasks(IEnumerable<KvEntry> entries, bool skipUnreadable)
    {
        var tasks = new Dictionary<string, TaskMeta>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (ConsulKeys.Tail(e.Key, _keys.MetaPrefix) is not { } name)
            {
                continue;
            }

            try
            {
                tasks[name] = Decode<TaskMeta>(e);
            }
            catch (RegistryException ex) when (skipUnreadable)
            {
                ConsulLog.SkippedRecord(_logger, ex, e.Key, _keys.MetaPrefix);
            }
        }

        return tasks;
    }

    private HashSet<string> DecodeTombstones(IEnumerable<KvEntry> entries)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (ConsulKeys.Tail(e.Key, _keys.DeletedPrefix) is { } name)
            {
                names.Add(name);
            }
        }

        return names;
    }

    private async Task RequireTrueAsync(Task<bool> call, string what, string name)
    {
        if (!await call.ConfigureAwait(false))
        {
            throw new ConsulApiException($"Consul at {_client.Address} answered false to an unconditional write ({what} '{name}').", _client.Address, System.Net.HttpStatusCode.OK, "false");
        }
    }

    private void RequireCommitted(TxnResponse r, string what)
    {
        if (!r.Committed)
        {
            throw new ConsulApiException($"Consul at {_client.Address} rolled back the transaction to {what}: {string.Join("; ", r.Errors!.Select(e => e.What))}",
                _client.Address, System.Net.HttpStatusCode.Conflict, null);
        }
    }
}
