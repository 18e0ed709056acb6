namespace DistributedCron;

public sealed partial class InMemoryRegistry
{
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal or the cron format is empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <see cref="InMemoryRegistryOptions.MaxPayloadBytes"/>.</exception>
    public Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default) => Run(ct, () =>
    {
        DcronLimits.ValidateTaskMeta(task, _maxPayloadBytes);
        lock (_store.Gate)
        {
            if (_ns.Deleted.Contains(task.Name))
            {
                return AddTaskResult.Deleted;
            }

            if (!_ns.Tasks.TryAdd(task.Name, task))
            {
                return AddTaskResult.Exists;
            }

            _ns.PublishTask(TaskEvent.Put(task));
            return AddTaskResult.Added;
        }
    });

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal or the cron format is empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <see cref="InMemoryRegistryOptions.MaxPayloadBytes"/>.</exception>
    public Task PutTaskAsync(TaskMeta task, CancellationToken ct = default) => Run(ct, () =>
    {
        DcronLimits.ValidateTaskMeta(task, _maxPayloadBytes);
        lock (_store.Gate)
        {
            _ns.Tasks[task.Name] = task;
            _ns.PublishTask(TaskEvent.Put(task));
        }
    });

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default) =>
        Run<IReadOnlyDictionary<string, TaskMeta>>(ct, () =>
        {
            lock (_store.Gate)
            {
                return new Dictionary<string, TaskMeta>(_ns.Tasks, StringComparer.Ordinal);
            }
        });

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task MarkTaskDeletedAsync(string name, CancellationToken ct = default) => Run(ct, () =>
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        lock (_store.Gate)
        {
            if (_ns.Deleted.Add(name))
            {
                _ns.PublishTask(TaskEvent.Tombstoned(name));
            }
        }
    });

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default) => Run(ct, () =>
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        lock (_store.Gate)
        {
            if (_ns.Deleted.Remove(name))
            {
                _ns.PublishTask(TaskEvent.Restored(name));
            }
        }
    });

    /// <inheritdoc />
    public Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default) => Run<IReadOnlySet<string>>(ct, () =>
    {
        lock (_store.Gate)
        {
            return new HashSet<string>(_ns.Deleted, StringComparer.Ordinal);
        }
    });

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task ForceCleanupTaskAsync(string name, CancellationToken ct = default) => Run(ct, () =>
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        lock (_store.Gate)
        {
            Erase(name);
        }
    });

    /// <inheritdoc />
    public Task ForceCleanupAllTasksAsync(CancellationToken ct = default) => Run(ct, () =>
    {
        lock (_store.Gate)
        {
            var names = new SortedSet<string>(StringComparer.Ordinal);
            names.UnionWith(_ns.Tasks.Keys);
            names.UnionWith(_ns.Deleted);
            names.UnionWith(_ns.Fires.Keys);
            foreach (var name in names)
            {
                Erase(name);
            }
        }
    });

    /// <inheritdoc />
    /// <remarks>
    /// <paramref name="scheduledAt"/> is truncated to whole milliseconds in UTC; the returned claim carries that
    /// instant. Fencing tokens count from 1 per fire state (a force cleanup starts the count again).
    /// </remarks>
    /// <exception cref="ArgumentException">The task name or node id is illegal.</exception>
    public Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default) =>
        Run(ct, () =>
        {
            DcronLimits.ValidateTaskName(task, nameof(task));
            ValidateNodeId(nodeId, nameof(nodeId));
            var at = ToClaimInstant(scheduledAt);
            lock (_store.Gate)
            {
                _ns.Fires.TryGetValue(task, out var state);
                if (state is not null && at <= state.LastScheduledAt)
                {
                    return new FireClaim
                    {
                        Granted = false,
                        TaskName = task,
                        ScheduledAt = at,
                        NodeId = nodeId,
                        LastScheduledAt = state.LastScheduledAt,
                        CurrentOwner = state.Owner,
                    };
                }

                var token = (state?.FencingToken ?? 0) + 1;
                _ns.Fires[task] = new TaskFireState
                {
                    TaskName = task,
                    LastScheduledAt = at,
                    FencingToken = token,
                    Owner = nodeId,
                    LastOutcome = state?.LastOutcome,
                };
                return new FireClaim { Granted = true, TaskName = task, ScheduledAt = at, NodeId = nodeId, FencingToken = token };
            }
        });

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The claim was not granted, or its task name is illegal.</exception>
    public Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default) => Run(ct, () =>
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(outcome);
        DcronLimits.ValidateTaskName(claim.TaskName, nameof(claim));
        if (!claim.Granted)
        {
            throw new ArgumentException($"The claim of '{claim.TaskName}' at {claim.ScheduledAt:O} was refused; only a granted claim has an outcome.", nameof(claim));
        }

        lock (_store.Gate)
        {
            if (_ns.Fires.TryGetValue(claim.TaskName, out var state) && state.FencingToken == claim.FencingToken)
            {
                _ns.Fires[claim.TaskName] = state with { LastOutcome = outcome with { FencingToken = claim.FencingToken } };
            }
        }
    });

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default) => Run(ct, () =>
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        lock (_store.Gate)
        {
            return _ns.Fires.GetValueOrDefault(task);
        }
    });

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default) =>
        Run<IReadOnlyDictionary<string, TaskFireState>>(ct, () =>
        {
            lock (_store.Gate)
            {
                return new Dictionary<string, TaskFireState>(_ns.Fires, StringComparer.Ordinal);
            }
        });

    /// <summary>The instant a claim is keyed on: UTC, truncated to whole milliseconds.</summary>
    internal static DateTimeOffset ToClaimInstant(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    /// <summary>Erases metadata, tombstone and fire state of one name, announcing each. Caller holds the lock.</summary>
    private void Erase(string name)
    {
        if (_ns.Tasks.Remove(name))
        {
            _ns.PublishTask(TaskEvent.Removed(name));
        }

        if (_ns.Deleted.Remove(name))
        {
            _ns.PublishTask(TaskEvent.Restored(name));
        }

        _ns.Fires.Remove(name);
    }
}
