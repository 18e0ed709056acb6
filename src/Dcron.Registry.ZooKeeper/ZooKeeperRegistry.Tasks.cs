using DistributedCron.Registry.ZooKeeper.Client;

namespace DistributedCron.Registry.ZooKeeper;

public sealed partial class ZooKeeperRegistry
{
    /// <inheritdoc />
    /// <remarks>
    /// Reads <c>tasks/{name}</c> and creates it (NODEEXISTS if another client came first) or, for a record with
    /// neither metadata nor tombstone, rewrites it at the version read: the decision and the write are one atomic
    /// step on the server, and a concurrent change makes it decide again.
    /// </remarks>
    /// <exception cref="ArgumentException">The task name is illegal or the cron format is empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <see cref="ZooKeeperRegistryOptions.MaxPayloadBytes"/>.</exception>
    public Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        return RunAsync(async c =>
        {
            var result = AddTaskResult.Added;
            await UpdateTaskRecordAsync(task.Name, old =>
            {
                result = old switch
                {
                    { Deleted: true } => AddTaskResult.Deleted,
                    { Meta: not null } => AddTaskResult.Exists,
                    _ => AddTaskResult.Added,
                };
                return result == AddTaskResult.Added ? new TaskRecord { Meta = task } : old;
            }, c).ConfigureAwait(false);
            return result;
        }, ct);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal or the cron format is empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <see cref="ZooKeeperRegistryOptions.MaxPayloadBytes"/>.</exception>
    public Task PutTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        return RunAsync(c => UpdateTaskRecordAsync(task.Name, old => (old ?? new TaskRecord()) with { Meta = task }, c, force: true), ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default) =>
        RunAsync<IReadOnlyDictionary<string, TaskMeta>>(async c =>
        {
            var tasks = new Dictionary<string, TaskMeta>(StringComparer.Ordinal);
            foreach (var (name, record) in await ReadTaskRecordsAsync(c).ConfigureAwait(false))
            {
                if (record.Meta is { } meta)
                {
                    tasks[name] = meta;
                }
            }

            return tasks;
        }, ct);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task MarkTaskDeletedAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        return RunAsync(c => UpdateTaskRecordAsync(name, old => (old ?? new TaskRecord()) with { Deleted = true }, c), ct);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        return RunAsync(c => UpdateTaskRecordAsync(name, old => old is null ? null : old with { Deleted = false }, c), ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default) => RunAsync<IReadOnlySet<string>>(async c =>
    {
        var records = await ReadTaskRecordsAsync(c).ConfigureAwait(false);
        return new HashSet<string>(records.Where(r => r.Value.Deleted).Select(r => r.Key), StringComparer.Ordinal);
    }, ct);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task ForceCleanupTaskAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        return RunAsync(c => Task.WhenAll(DeleteIfExistsAsync(_paths.Task(name), c), DeleteIfExistsAsync(_paths.Fire(name), c)), ct);
    }

    /// <inheritdoc />
    public Task ForceCleanupAllTasksAsync(CancellationToken ct = default) => RunAsync(async c =>
    {
        foreach (var dir in new[] { _paths.Tasks, _paths.Fires })
        {
            var names = await _client.GetChildrenAsync(dir, false, c).ConfigureAwait(false) ?? throw new LayoutMissingException(dir);
            await Task.WhenAll(names.Select(n => DeleteIfExistsAsync(dir + "/" + n, c))).ConfigureAwait(false);
        }
    }, ct);

    /// <summary>
    /// Read-modify-write of <c>tasks/{name}</c> at the version read: <paramref name="change"/> gets the current record
    /// (null when absent) and returns the new one (null or empty: delete). A concurrent writer makes the write fail
    /// (BADVERSION, NODEEXISTS, NONODE) and the change is applied again to fresh data. Unchanged records are not
    /// written unless <paramref name="force"/> (a put always writes, so watchers see it).
    /// </summary>
    private async Task UpdateTaskRecordAsync(string name, Func<TaskRecord?, TaskRecord?> change, CancellationToken ct, bool force = false)
    {
        var path = _paths.Task(name);
        while (true)
        {
            var got = await _client.GetDataAsync(path, false, ct).ConfigureAwait(false);
            var old = got is { } g ? RegistryJson.Deserialize<TaskRecord>(Utf8(g.Data)) : null;
            var next = change(old);
            if (next is { IsEmpty: true })
            {
                next = null;
            }

            if (!force && next == old)
            {
                return;
            }

            try
            {
                if (next is null)
                {
                    await _client.DeleteAsync(path, got!.Value.Stat.Version, ct).ConfigureAwait(false);
                }
                else if (got is null)
                {
                    await _client.CreateAsync(path, Utf8(RegistryJson.Serialize(next)), _acl, ZkCreateMode.Persistent, ct).ConfigureAwait(false);
                }
                else
                {
                    await _client.SetDataAsync(path, Utf8(RegistryJson.Serialize(next)), got.Value.Stat.Version, ct).ConfigureAwait(false);
                }

                return;
            }
            catch (ZkErrorException ex) when (ex.Code is ZkError.BadVersion or ZkError.NodeExists || (ex.Code == ZkError.NoNode && got is not null))
            {
                // changed concurrently: apply the change to fresh data
            }
            catch (ZkErrorException ex) when (ex.Code == ZkError.NoNode)
            {
                throw new LayoutMissingException(_paths.Tasks);
            }
        }
    }

    private async Task<Dictionary<string, TaskRecord>> ReadTaskRecordsAsync(CancellationToken ct)
    {
        var records = new Dictionary<string, TaskRecord>(StringComparer.Ordinal);
        foreach (var (name, e) in await ReadDirectoryAsync(_paths.Tasks, watch: false, ct).ConfigureAwait(false))
        {
            records[name] = RegistryJson.Deserialize<TaskRecord>(Utf8(e.Data));
        }

        return records;
    }

    private async Task DeleteIfExistsAsync(string path, CancellationToken ct)
    {
        try
        {
            await _client.DeleteAsync(path, -1, ct).ConfigureAwait(false);
        }
        catch (ZkErrorException ex) when (ex.Code == ZkError.NoNode)
        {
            // already gone
        }
    }

    /// <summary>The children of a layout directory with their data and stat (children deleted meanwhile are left out).</summary>
    private async Task<Dictionary<string, (byte[]? Data, ZkStat Stat)>> ReadDirectoryAsync(string dir, bool watch, CancellationToken ct)
    {
        var names = await _client.GetChildrenAsync(dir, watch, ct).ConfigureAwait(false) ?? throw new LayoutMissingException(dir);
        var reads = names.Select(n => _client.GetDataAsync(dir + "/" + n, watch, ct)).ToArray();
        await Task.WhenAll(reads).ConfigureAwait(false);
        var result = new Dictionary<string, (byte[]?, ZkStat)>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (reads[i].Result is { } e)
            {
                result[names[i]] = e;
            }
        }

        return result;
    }
}
