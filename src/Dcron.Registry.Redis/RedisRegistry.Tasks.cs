using System.Runtime.CompilerServices;
using DistributedCron.Registry.Redis.Lua;
using DistributedCron.Registry.Redis.Watch;
using StackExchange.Redis;

namespace DistributedCron.Registry.Redis;

public sealed partial class RedisRegistry
{
    /// <inheritdoc />
    public async Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        var r = (long)await EvalAsync($"add task '{task.Name}'", TaskScripts.Add, _keys.TaskKeys,
            [_keys.TaskChannelPublished, task.Name, RegistryJson.Serialize(task)], ct).ConfigureAwait(false);
        return r switch
        {
            0 => AddTaskResult.Added,
            1 => AddTaskResult.Exists,
            2 => AddTaskResult.Deleted,
            _ => throw new RegistryException($"Unexpected AddTask reply {r} for task '{task.Name}'."),
        };
    }

    /// <inheritdoc />
    public async Task PutTaskAsync(TaskMeta task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskMeta(task, _options.MaxPayloadBytes);
        await EvalAsync($"put task '{task.Name}'", TaskScripts.Put, _keys.TaskKeys,
            [_keys.TaskChannelPublished, task.Name, RegistryJson.Serialize(task)], ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default) =>
        (await ReadTasksAsync(ct).ConfigureAwait(false)).Tasks;

    /// <inheritdoc />
    public Task MarkTaskDeletedAsync(string name, CancellationToken ct = default) =>
        TaskNameScriptAsync("tombstone task", TaskScripts.MarkDeleted, name, ct);

    /// <inheritdoc />
    public Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default) =>
        TaskNameScriptAsync("remove tombstone of task", TaskScripts.RemoveDeleted, name, ct);

    /// <inheritdoc />
    public async Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default)
    {
        var r = await EvalAsync("read tombstones", TaskScripts.ReadTombstones, _keys.TaskKeys, [_keys.TaskChannelPublished], ct)
            .ConfigureAwait(false);
        return new HashSet<string>(Strings(r, "tombstones"), StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TaskEvent> WatchTasksAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var watch = NewWatch<TaskEvent>(_keys.TaskChannel,
            async c =>
            {
                var (rev, tasks, deleted) = await ReadTasksAsync(c).ConfigureAwait(false);
                return (rev, TaskEvent.Snapshot(tasks, deleted));
            },
            async c =>
            {
                ThrowIfDisposed();
                var v = await _client.GetAsync("read task revision", _keys.TaskRevision, c).ConfigureAwait(false);
                return v.IsNull ? 0 : (long)v;
            },
            DecodeTaskMessage);
        await foreach (var e in watch.RunAsync(ct, DisposedToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    /// <inheritdoc />
    public Task ForceCleanupTaskAsync(string name, CancellationToken ct = default) =>
        TaskNameScriptAsync("force cleanup of task", TaskScripts.Cleanup, name, ct);

    /// <inheritdoc />
    public async Task ForceCleanupAllTasksAsync(CancellationToken ct = default) =>
        await EvalAsync($"force cleanup of all tasks in namespace '{_keys.Namespace}'", TaskScripts.CleanupAll, _keys.TaskKeys,
            [_keys.TaskChannelPublished], ct).ConfigureAwait(false);

    private async Task TaskNameScriptAsync(string what, string script, string name, CancellationToken ct)
    {
        DcronLimits.ValidateTaskName(name);
        await EvalAsync($"{what} '{name}'", script, _keys.TaskKeys, [_keys.TaskChannelPublished, name], ct).ConfigureAwait(false);
    }

    private async Task<(long Revision, IReadOnlyDictionary<string, TaskMeta> Tasks, IReadOnlySet<string> Deleted)> ReadTasksAsync(CancellationToken ct)
    {
        var r = Array(await EvalAsync("read tasks", TaskScripts.Read, _keys.TaskKeys, [_keys.TaskChannelPublished], ct)
            .ConfigureAwait(false), "read tasks");
        var flat = Strings(r[1], "task documents");
        var tasks = new Dictionary<string, TaskMeta>(flat.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            tasks[flat[i]] = RegistryJson.Deserialize<TaskMeta>(flat[i + 1]);
        }

        var deleted = new HashSet<string>(Strings(r[2], "tombstones"), StringComparer.Ordinal);
        return ((long)r[0], tasks, deleted);
    }

    private static TaskEvent? DecodeTaskMessage(WatchMessage m) => m.Kind switch
    {
        "p" => TaskEvent.Put(RegistryJson.Deserialize<TaskMeta>(m.Data ?? throw new RegistryException($"Task message without a document: {m.Id}"))),
        "x" => TaskEvent.Removed(m.Id),
        "t" => TaskEvent.Tombstoned(m.Id),
        "s" => TaskEvent.Restored(m.Id),
        "c" => null,
        _ => throw new RegistryException($"Unknown task message kind '{m.Kind}'."),
    };
}
