namespace DistributedCron;

/// <summary>
/// The engine's only way to the registry: every call is timed and every failure counted
/// (<c>dcron.registry.duration</c>, <c>dcron.registry.errors</c>); exceptions propagate to the caller, which decides
/// how to retry, log or surface them.
/// </summary>
internal sealed class RegistryClient(IRegistry inner, DcronMetrics metrics, TimeProvider time)
{
    public IRegistry Inner => inner;

    public Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct) =>
        Call("register", () => inner.RegisterNodeAsync(node, ttl, ct));

    public Task HeartbeatAsync(string nodeId, CancellationToken ct) =>
        Call("heartbeat", () => inner.HeartbeatAsync(nodeId, ct), notFoundIsError: false);

    public Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct) =>
        Call("update_status", () => inner.UpdateNodeStatusAsync(nodeId, status, ct), notFoundIsError: false);

    public Task UnregisterNodeAsync(string nodeId, CancellationToken ct) =>
        Call("unregister", () => inner.UnregisterNodeAsync(nodeId, ct));

    public Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct) =>
        Call("get_nodes", () => inner.GetNodesAsync(ct));

    public Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct) =>
        Call("add_task", () => inner.AddTaskAsync(task, ct));

    public Task PutTaskAsync(TaskMeta task, CancellationToken ct) =>
        Call("put_task", () => inner.PutTaskAsync(task, ct));

    public Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct) =>
        Call("get_tasks", () => inner.GetTasksAsync(ct));

    public Task MarkTaskDeletedAsync(string name, CancellationToken ct) =>
        Call("mark_deleted", () => inner.MarkTaskDeletedAsync(name, ct));

    public Task RemoveTaskDeletedAsync(string name, CancellationToken ct) =>
        Call("remove_deleted", () => inner.RemoveTaskDeletedAsync(name, ct));

    public Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct) =>
        Call("get_deleted", () => inner.GetDeletedTaskNamesAsync(ct));

    public Task ForceCleanupTaskAsync(string name, CancellationToken ct) =>
        Call("cleanup_task", () => inner.ForceCleanupTaskAsync(name, ct));

    public Task ForceCleanupAllTasksAsync(CancellationToken ct) =>
        Call("cleanup_all", () => inner.ForceCleanupAllTasksAsync(ct));

    public Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct) =>
        Call("claim", () => inner.CanRunTaskAsync(task, scheduledAt, nodeId, ct));

    public Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct) =>
        Call("complete", () => inner.CompleteFireAsync(claim, outcome, ct));

    public Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct) =>
        Call("get_fire_state", () => inner.GetFireStateAsync(task, ct));

    public Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct) =>
        Call("get_fire_states", () => inner.GetFireStatesAsync(ct));

    private async Task Call(string op, Func<Task> call, bool notFoundIsError = true)
    {
        var start = time.GetTimestamp();
        var failed = false;
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (NodeNotFoundException) when (!notFoundIsError)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            metrics.RegistryCall(op, time.GetElapsedTime(start), failed);
        }
    }

    private async Task<T> Call<T>(string op, Func<Task<T>> call)
    {
        var start = time.GetTimestamp();
        var failed = false;
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            metrics.RegistryCall(op, time.GetElapsedTime(start), failed);
        }
    }
}
