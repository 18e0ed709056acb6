using System.Runtime.CompilerServices;

namespace DistributedCron.Demo;

/// <summary>
/// A registry client that can be cut off: after <see cref="Partition"/> every call fails with
/// <see cref="RegistryUnavailableException"/> and open watches end with it, as for a process whose network died or
/// that was killed with no chance to say goodbye (its registration then expires after the node TTL).
/// </summary>
internal sealed class PartitionableRegistry(IRegistry inner) : IRegistry
{
    private readonly CancellationTokenSource _cut = new();

    public bool Partitioned => _cut.IsCancellationRequested;

    public void Partition() => _cut.Cancel();

    public Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default) => Guard(() => inner.RegisterNodeAsync(node, ttl, ct));

    public Task HeartbeatAsync(string nodeId, CancellationToken ct = default) => Guard(() => inner.HeartbeatAsync(nodeId, ct));

    public Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default) => Guard(() => inner.UpdateNodeStatusAsync(nodeId, status, ct));

    public Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default) => Guard(() => inner.UnregisterNodeAsync(nodeId, ct));

    public Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default) => Guard(() => inner.GetNodesAsync(ct));

    public Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default) => Guard(() => inner.AddTaskAsync(task, ct));

    public Task PutTaskAsync(TaskMeta task, CancellationToken ct = default) => Guard(() => inner.PutTaskAsync(task, ct));

    public Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default) => Guard(() => inner.GetTasksAsync(ct));

    public Task MarkTaskDeletedAsync(string name, CancellationToken ct = default) => Guard(() => inner.MarkTaskDeletedAsync(name, ct));

    public Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default) => Guard(() => inner.RemoveTaskDeletedAsync(name, ct));

    public Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default) => Guard(() => inner.GetDeletedTaskNamesAsync(ct));

    public Task ForceCleanupTaskAsync(string name, CancellationToken ct = default) => Guard(() => inner.ForceCleanupTaskAsync(name, ct));

    public Task ForceCleanupAllTasksAsync(CancellationToken ct = default) => Guard(() => inner.ForceCleanupAllTasksAsync(ct));

    public Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default) =>
        Guard(() => inner.CanRunTaskAsync(task, scheduledAt, nodeId, ct));

    public Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default) => Guard(() => inner.CompleteFireAsync(claim, outcome, ct));

    public Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default) => Guard(() => inner.GetFireStateAsync(task, ct));

    public Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default) => Guard(() => inner.GetFireStatesAsync(ct));

    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default) => Watch(inner.WatchNodesAsync, ct);

    public IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default) => Watch(inner.WatchTasksAsync, ct);

    public ValueTask DisposeAsync()
    {
        _cut.Dispose();
        return inner.DisposeAsync();
    }

    private Task Guard(Func<Task> call) => Partitioned ? Task.FromException(Unreachable()) : call();

    private Task<T> Guard<T>(Func<Task<T>> call) => Partitioned ? Task.FromException<T>(Unreachable()) : call();

    private static RegistryUnavailableException Unreachable() => new("The node is cut off from the registry (demo partition).");

    private async IAsyncEnumerable<T> Watch<T>(Func<CancellationToken, IAsyncEnumerable<T>> watch, [EnumeratorCancellation] CancellationToken ct)
    {
        if (Partitioned)
        {
            throw Unreachable();
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _cut.Token);
        var e = watch(linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await e.MoveNextAsync();
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw Unreachable();
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
            await e.DisposeAsync();
        }
    }
}
