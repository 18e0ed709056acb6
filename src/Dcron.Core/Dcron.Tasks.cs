namespace DistributedCron;

public sealed partial class Dcron
{
    /// <summary>
    /// Adds a static task: its handler lives in this process, so register it on every node that should be able to run
    /// it. Valid before or after start. The cron text is parsed at once.
    /// </summary>
    /// <param name="name">1–200 characters of <c>[A-Za-z0-9._:@-]</c>, starting with a letter or digit.</param>
    /// <param name="cron">A cron expression (5 or 6 fields, a macro, <c>@every 1h30m</c>, optional <c>CRON_TZ=</c> prefix).</param>
    /// <param name="handler">Runs one occurrence.</param>
    /// <param name="options">Per-task settings (default: <see cref="TaskOptions.Default"/>).</param>
    /// <exception cref="ArgumentException">The name is illegal (the message names it) or an option is invalid.</exception>
    /// <exception cref="CronFormatException">The cron text is invalid.</exception>
    /// <exception cref="TaskExistsException">This node already knows a task of that name.</exception>
    /// <exception cref="TaskDeletedException">The name is tombstoned in the registry (known once the node loaded its view).</exception>
    public void AddFunc(string name, string cron, Func<TaskContext, Task> handler, TaskOptions? options = null) =>
        AddStatic(Define(name, cron, handler, oneShot: false, options));

    /// <summary>Adds a static task implemented by <paramref name="task"/>; see <see cref="AddFunc"/>.</summary>
    public void AddTask(string name, string cron, ICronTask task, TaskOptions? options = null) =>
        AddStatic(Define(name, cron, Handler(task), oneShot: false, options));

    /// <summary>
    /// Adds a static one-shot task: it runs once in the cluster (at its first occurrence), then is tombstoned in the
    /// registry, and the tombstone survives restarts (use <see cref="ReuseDeletedTaskAsync"/> or a ForceAdd method to
    /// run it again). See <see cref="AddFunc"/> for the parameters.
    /// </summary>
    public void AddOneShotFunc(string name, string cron, Func<TaskContext, Task> handler, TaskOptions? options = null) =>
        AddStatic(Define(name, cron, handler, oneShot: true, options));

    /// <summary>Adds a static one-shot task implemented by <paramref name="task"/>; see <see cref="AddOneShotFunc"/>.</summary>
    public void AddOneShotTask(string name, string cron, ICronTask task, TaskOptions? options = null) =>
        AddStatic(Define(name, cron, Handler(task), oneShot: true, options));

    /// <summary>
    /// Like <see cref="AddFunc"/>, but first erases every trace of the name in the registry (metadata, tombstone,
    /// fire state) and replaces whatever this node had under it.
    /// </summary>
    public Task ForceAddFuncAsync(string name, string cron, Func<TaskContext, Task> handler, TaskOptions? options = null, CancellationToken ct = default) =>
        ForceAddStaticAsync(Define(name, cron, handler, oneShot: false, options), ct);

    /// <summary>Like <see cref="AddTask"/>, after erasing every trace of the name; see <see cref="ForceAddFuncAsync"/>.</summary>
    public Task ForceAddTaskAsync(string name, string cron, ICronTask task, TaskOptions? options = null, CancellationToken ct = default) =>
        ForceAddStaticAsync(Define(name, cron, Handler(task), oneShot: false, options), ct);

    /// <summary>Like <see cref="AddOneShotFunc"/>, after erasing every trace of the name; see <see cref="ForceAddFuncAsync"/>.</summary>
    public Task ForceAddOneShotFuncAsync(string name, string cron, Func<TaskContext, Task> handler, TaskOptions? options = null, CancellationToken ct = default) =>
        ForceAddStaticAsync(Define(name, cron, handler, oneShot: true, options), ct);

    /// <summary>Like <see cref="AddOneShotTask"/>, after erasing every trace of the name; see <see cref="ForceAddFuncAsync"/>.</summary>
    public Task ForceAddOneShotTaskAsync(string name, string cron, ICronTask task, TaskOptions? options = null, CancellationToken ct = default) =>
        ForceAddStaticAsync(Define(name, cron, Handler(task), oneShot: true, options), ct);

    /// <summary>
    /// Adds a dynamic task: stored in the registry, visible to every node, run on its owner by
    /// <see cref="DcronOptions.DynamicTaskHandler"/>. The name check is atomic in the registry.
    /// </summary>
    /// <exception cref="ArgumentException">The name is illegal or the cron format empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <see cref="DcronOptions.MaxPayloadBytes"/>.</exception>
    /// <exception cref="CronFormatException">The cron text is invalid.</exception>
    /// <exception cref="TaskExistsException">A task of that name exists in the registry or as a static task of this node.</exception>
    /// <exception cref="TaskDeletedException">The name is tombstoned.</exception>
    public async Task AddTaskMetaAsync(TaskMeta meta, CancellationToken ct = default)
    {
        ValidateMeta(meta);
        lock (_engine.Gate)
        {
            if (_engine.Catalog.IsStatic(meta.Name))
            {
                throw new TaskExistsException(meta.Name);
            }
        }

        var result = await _engine.Registry.AddTaskAsync(meta, ct).ConfigureAwait(false);
        switch (result)
        {
            case AddTaskResult.Exists:
                throw new TaskExistsException(meta.Name);
            case AddTaskResult.Deleted:
                throw new TaskDeletedException(meta.Name);
        }

        lock (_engine.Gate)
        {
            _engine.Catalog.PutMeta(meta);
        }

        _engine.RequestReconcile();
    }

    /// <summary>Stores a dynamic task after erasing every trace of its name in the registry (and on this node).</summary>
    public async Task ForceAddTaskMetaAsync(TaskMeta meta, CancellationToken ct = default)
    {
        ValidateMeta(meta);
        await _engine.Registry.ForceCleanupTaskAsync(meta.Name, ct).ConfigureAwait(false);
        await _engine.Registry.PutTaskAsync(meta, ct).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            _engine.Catalog.Forget(meta.Name);
            _engine.ResetRuntime(meta.Name);
            _engine.Catalog.PutMeta(meta);
        }

        _engine.RequestReconcile();
    }

    /// <summary>
    /// Tombstones a name in the registry: the task stops on every node, and the tombstone survives restarts. The
    /// name need not be known to this node (a tombstone also stops static tasks other nodes register later).
    /// </summary>
    public async Task MarkTaskDeletedAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        await _engine.Registry.MarkTaskDeletedAsync(name, ct).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            _engine.Catalog.SetDeleted(name, true);
        }

        _engine.RequestReconcile();
    }

    /// <summary>
    /// Removes a name's tombstone so the task runs again. Occurrences that passed while it was tombstoned are not
    /// caught up: its fire state is first advanced to now.
    /// </summary>
    /// <exception cref="TaskNotFoundException">The name is not tombstoned.</exception>
    public async Task ReuseDeletedTaskAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        var deleted = await _engine.Registry.GetDeletedTaskNamesAsync(ct).ConfigureAwait(false);
        if (!deleted.Contains(name))
        {
            throw new TaskNotFoundException(name, "it is not marked deleted");
        }

        var now = _engine.Time.GetUtcNow();
        now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        var claim = await _engine.Registry.CanRunTaskAsync(name, now, NodeId, ct).ConfigureAwait(false);
        if (claim.Granted)
        {
            var outcome = new FireOutcome { Status = FireStatus.Skipped, StartedAt = now, Error = "restored from its tombstone: not run", Attempts = 0 };
            await _engine.Registry.CompleteFireAsync(claim, outcome, ct).ConfigureAwait(false);
        }

        await _engine.Registry.RemoveTaskDeletedAsync(name, ct).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            _engine.Catalog.SetDeleted(name, false);
            _engine.ResetRuntime(name);
        }

        _engine.RequestReconcile();
    }

    /// <summary>Erases every trace of a task: in the registry (metadata, tombstone, fire state) and on this node (including a static task).</summary>
    public async Task CleanupTaskAsync(string name, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        await _engine.Registry.ForceCleanupTaskAsync(name, ct).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            _engine.Catalog.Forget(name);
            _engine.ResetRuntime(name);
        }

        _engine.RequestReconcile();
    }

    /// <summary>Erases every task, tombstone and fire state of the registry's namespace, and this node's static tasks. Meant for tests.</summary>
    public async Task ForceCleanupAllTasksAsync(CancellationToken ct = default)
    {
        await _engine.Registry.ForceCleanupAllTasksAsync(ct).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            _engine.Catalog.Clear();
            _engine.ResetAllRuntimes();
        }

        _engine.RequestReconcile();
    }

    private static Func<TaskContext, Task> Handler(ICronTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.RunAsync;
    }

    private TaskDefinition Define(string name, string cron, Func<TaskContext, Task> handler, bool oneShot, TaskOptions? options)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(cron);
        ArgumentNullException.ThrowIfNull(handler);
        var expression = CronExpression.Parse(cron);
        var opts = options ?? TaskOptions.Default;
        opts.Validate(name);
        return TaskDefinition.Static(name, cron, expression, oneShot, handler, opts, _options);
    }

    private void AddStatic(TaskDefinition def)
    {
        lock (_engine.Gate)
        {
            if (_engine.Catalog.IsDeleted(def.Name))
            {
                throw new TaskDeletedException(def.Name);
            }

            if (_engine.Catalog.IsKnown(def.Name))
            {
                throw new TaskExistsException(def.Name);
            }

            _engine.Catalog.AddStatic(def);
        }

        _engine.RequestReconcile();
    }

    private async Task ForceAddStaticAsync(TaskDefinition def, CancellationToken ct)
    {
        await _engine.Registry.ForceCleanupTaskAsync(def.Name, ct).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            _engine.Catalog.Forget(def.Name);
            _engine.ResetRuntime(def.Name);
            _engine.Catalog.AddStatic(def);
        }

        _engine.RequestReconcile();
    }

    private void ValidateMeta(TaskMeta meta)
    {
        ArgumentNullException.ThrowIfNull(meta);
        DcronLimits.ValidateTaskMeta(meta, _options.MaxPayloadBytes);
        _ = CronExpression.Parse(meta.CronFormat);
    }
}
