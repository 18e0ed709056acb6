namespace DistributedCron.Hosting.Tests;

/// <summary>A registry decorator whose calls all throw <see cref="RegistryUnavailableException"/> while <see cref="Failing"/> is set (watches pass through).</summary>
internal sealed class SwitchableRegistry(IRegistry inner) : IRegistry
{
    private volatile bool _failing;

    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public bool Disposed { get; private set; }

    public Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default) => Call(() => inner.RegisterNodeAsync(node, ttl, ct));

    public Task HeartbeatAsync(string nodeId, CancellationToken ct = default) => Call(() => inner.HeartbeatAsync(nodeId, ct));

    public Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default) => Call(() => inner.UpdateNodeStatusAsync(nodeId, status, ct));

    public Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default) => Call(() => inner.UnregisterNodeAsync(nodeId, ct));

    public Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default) => Call(() => inner.GetNodesAsync(ct));

    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default) => inner.WatchNodesAsync(ct);

    public Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default) => Call(() => inner.AddTaskAsync(task, ct));

    public Task PutTaskAsync(TaskMeta task, CancellationToken ct = default) => Call(() => inner.PutTaskAsync(task, ct));

    public Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default) => Call(() => inner.GetTasksAsync(ct));

    public Task MarkTaskDeletedAsync(string name, CancellationToken ct = default) => Call(() => inner.MarkTaskDeletedAsync(name, ct));

    public Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default) => Call(() => inner.RemoveTaskDeletedAsync(name, ct));

    public Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default) => Call(() => inner.GetDeletedTaskNamesAsync(ct));

    public IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default) => inner.WatchTasksAsync(ct);

    public Task ForceCleanupTaskAsync(string name, CancellationToken ct = default) => Call(() => inner.ForceCleanupTaskAsync(name, ct));

    public Task ForceCleanupAllTasksAsync(CancellationToken ct = default) => Call(() => inner.ForceCleanupAllTasksAsync(ct));

    public Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default) =>
        Call(() => inner.CanRunTaskAsync(task, scheduledAt, nodeId, ct));

    public Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default) => Call(() => inner.CompleteFireAsync(claim, outcome, ct));

    public Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default) => Call(() => inner.GetFireStateAsync(task, ct));

    public Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default) => Call(() => inner.GetFireStatesAsync(ct));

    public async ValueTask DisposeAsync()
    {
        Disposed = true;
        await inner.DisposeAsync();
    }

    private Task Call(Func<Task> call) => _failing ? Task.FromException(Unavailable()) : call();

    private Task<T> Call<T>(Func<Task<T>> call) => _failing ? Task.FromException<T>(Unavailable()) : call();

    private static RegistryUnavailableException Unavailable() => new("test: the registry is switched off");
}
