namespace DistributedCron;

/// <summary>
/// The shared store a cluster coordinates through: node membership and liveness, task metadata and tombstones,
/// and one fire state per task that makes every scheduled occurrence claimable exactly once.
/// </summary>
/// <remarks>
/// <para>Rules every implementation follows (the conformance suite in <c>tests/Dcron.Registry.Tests</c> checks them):</para>
/// <list type="bullet">
/// <item>Every key lives under the implementation's namespace, so clusters sharing a server never see each other.</item>
/// <item>Errors surface as exceptions (<see cref="RegistryException"/> and its subclasses, or the typed
/// exceptions a method documents); a failed read never returns an empty result.</item>
/// <item>Liveness is judged by the server (key TTL evaluated with server time, lease, session), never by comparing
/// clocks of different machines. (Consul's sessions expire too late for a node TTL of seconds, so its watchers also
/// drop a node whose heartbeat-rewritten key has not changed for its TTL, timed on the watcher's own monotonic
/// clock.)</item>
/// <item>Watches start with a <c>Snapshot</c> event and reconnect by themselves; whenever events may have been
/// lost (reconnect, compaction, server restart) they emit a fresh <c>Snapshot</c>, which replaces the consumer's
/// view. A watch ends only when its token is cancelled or the registry is disposed.</item>
/// <item>Storage is bounded: one record per node, per task, per tombstone and one fire state per task.</item>
/// <item>A watch against an unreachable server keeps retrying (it never yields an empty snapshot); a cancelled
/// watch ends quietly or with <see cref="OperationCanceledException"/>; after <c>DisposeAsync</c> every call throws
/// <see cref="ObjectDisposedException"/>. A call whose token is already cancelled writes nothing.</item>
/// <item>Fencing tokens increase strictly while a task's fire state exists; <see cref="ForceCleanupTaskAsync"/>
/// erases the state, so a task re-created after it starts again at token 1.</item>
/// </list>
/// </remarks>
public interface IRegistry : IAsyncDisposable
{
    /// <summary>Registers (or re-registers) a node whose registration expires after <paramref name="ttl"/> without a heartbeat.</summary>
    Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default);

    /// <summary>Extends the node's liveness by its TTL.</summary>
    /// <exception cref="NodeNotFoundException">The registration expired or was removed; register again.</exception>
    Task HeartbeatAsync(string nodeId, CancellationToken ct = default);

    /// <summary>Changes the status of a registered node.</summary>
    /// <exception cref="NodeNotFoundException">The node is not registered.</exception>
    Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default);

    /// <summary>Removes the node at once. Removing an unknown node is not an error.</summary>
    Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default);

    /// <summary>The live nodes, sorted by <see cref="Node.Id"/> (ordinal).</summary>
    Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default);

    /// <summary>A snapshot of the live nodes, then every change (register, status change, unregister, expiry).</summary>
    IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default);

    /// <summary>
    /// Stores a task if its name is neither used nor tombstoned, atomically on the server. A name that is both
    /// stored and tombstoned gives <see cref="AddTaskResult.Deleted"/>; tombstoning keeps the metadata.
    /// </summary>
    Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default);

    /// <summary>Creates or overwrites a task's metadata (tombstones are not checked or changed).</summary>
    Task PutTaskAsync(TaskMeta task, CancellationToken ct = default);

    /// <summary>All stored task metadata by name.</summary>
    Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default);

    /// <summary>Tombstones a name: the task stops everywhere and the tombstone survives restarts.</summary>
    Task MarkTaskDeletedAsync(string name, CancellationToken ct = default);

    /// <summary>Removes the tombstone of that name, and of no other.</summary>
    Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default);

    /// <summary>The tombstoned names.</summary>
    Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default);

    /// <summary>A snapshot of tasks and tombstones, then every put, removal, tombstone and restore, in order per task.</summary>
    IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default);

    /// <summary>Erases the metadata, the tombstone and the fire state of one task.</summary>
    Task ForceCleanupTaskAsync(string name, CancellationToken ct = default);

    /// <summary>Erases every task, tombstone and fire state of this namespace (nodes are kept).</summary>
    Task ForceCleanupAllTasksAsync(CancellationToken ct = default);

    /// <summary>
    /// Claims the occurrence <paramref name="scheduledAt"/> of a task for a node. Granted iff
    /// <paramref name="scheduledAt"/> is later than the task's <see cref="TaskFireState.LastScheduledAt"/> (or the
    /// task has no fire state); a grant sets <c>LastScheduledAt</c>, increments the fencing token and records the
    /// owner, in one atomic step on the server. Instants are compared in UTC at millisecond precision.
    /// </summary>
    Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default);

    /// <summary>
    /// Records the outcome of a granted claim. It is stored only while the claim is still the task's latest
    /// (same fencing token); the outcome of a superseded claim is ignored.
    /// </summary>
    Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default);

    /// <summary>The fire state of one task, or null when it was never claimed.</summary>
    Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default);

    /// <summary>The fire states of all tasks of this namespace, by task name.</summary>
    Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default);
}
