using Xunit;
using System.Runtime.CompilerServices;

namespace DistributedCron.Tests.Engine;

/// <summary>
/// A registry decorator that injects faults: <see cref="Partitioned"/> makes every call (watches included) fail
/// with <see cref="RegistryUnavailableException"/>, as for a node cut off from the server; <see cref="FailEvery"/>
/// fails every k-th call, alternately before the call reaches the registry and after it was applied (a lost answer);
/// <see cref="FailNext"/> fails chosen calls of one task. It also counts fire-state reads.
/// </summary>
internal sealed class FaultyRegistry(IRegistry inner) : IRegistry
{
    private readonly Lock _lock = new();
    private CancellationTokenSource _partition = new();
    private TaskCompletionSource _taskWatchGate = Open();
    private readonly Dictionary<(string Operation, string Task), int> _failNext = new();
    private long _calls;
    private long _injected;
    private long _fireStatesReads;
    private long _fireStateReads;

    /// <summary>How many <see cref="GetFireStatesAsync"/> calls reached this decorator.</summary>
    public long FireStatesReads => Interlocked.Read(ref _fireStatesReads);

    /// <summary>How many <see cref="GetFireStateAsync"/> calls reached this decorator.</summary>
    public long FireStateReads => Interlocked.Read(ref _fireStateReads);

    /// <summary>
    /// Makes the next <paramref name="times"/> calls of <paramref name="operation"/> (<c>nameof</c> of a per-task
    /// method: <see cref="GetFireStateAsync"/>, <see cref="CanRunTaskAsync"/>) for <paramref name="task"/> fail
    /// before they reach the registry.
    /// </summary>
    public void FailNext(string operation, string task, int times = 1)
    {
        lock (_lock)
        {
            _failNext[(operation, task)] = times;
        }
    }

    /// <summary>How many faults set by <see cref="FailNext"/> for that call and task are still to be injected.</summary>
    public int FaultsLeft(string operation, string task)
    {
        lock (_lock)
        {
            return _failNext.GetValueOrDefault((operation, task));
        }
    }

    private void TargetedFault(string operation, string task)
    {
        lock (_lock)
        {
            if (_failNext.TryGetValue((operation, task), out var left) && left > 0)
            {
                _failNext[(operation, task)] = left - 1;
                throw new RegistryUnavailableException($"Injected fault: {operation} of '{task}' never reached the registry.");
            }
        }
    }

    /// <summary>When set, every call fails; watches end with an error.</summary>
    public bool Partitioned { get; private set; }

    /// <summary>Fail every k-th call (0 = never).</summary>
    public int FailEvery { get; set; }

    /// <summary>How many faults were injected by <see cref="FailEvery"/>.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    public void Partition()
    {
        lock (_lock)
        {
            Partitioned = true;
            _partition.Cancel();
        }
    }

    /// <summary>Holds task-watch events back (a slow watch) until <see cref="ReleaseTaskWatch"/>.</summary>
    public void HoldTaskWatch()
    {
        lock (_lock)
        {
            if (_taskWatchGate.Task.IsCompleted)
            {
                _taskWatchGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public void ReleaseTaskWatch()
    {
        lock (_lock)
        {
            _taskWatchGate.TrySetResult();
        }
    }

    private static TaskCompletionSource Open()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }

    public void Heal()
    {
        lock (_lock)
        {
            Partitioned = false;
            _partition = new CancellationTokenSource();
        }
    }

    public Task RegisterNodeAsync(Node node, TimeSpan ttl, CancellationToken ct = default) => Call(() => inner.RegisterNodeAsync(node, ttl, ct));

    public Task HeartbeatAsync(string nodeId, CancellationToken ct = default) => Call(() => inner.HeartbeatAsync(nodeId, ct));

    public Task UpdateNodeStatusAsync(string nodeId, NodeStatus status, CancellationToken ct = default) => Call(() => inner.UpdateNodeStatusAsync(nodeId, status, ct));

    public Task UnregisterNodeAsync(string nodeId, CancellationToken ct = default) => Call(() => inner.UnregisterNodeAsync(nodeId, ct));

    public Task<IReadOnlyList<Node>> GetNodesAsync(CancellationToken ct = default) => Call(() => inner.GetNodesAsync(ct));

    public Task<AddTaskResult> AddTaskAsync(TaskMeta task, CancellationToken ct = default) => Call(() => inner.AddTaskAsync(task, ct));

    public Task PutTaskAsync(TaskMeta task, CancellationToken ct = default) => Call(() => inner.PutTaskAsync(task, ct));

    public Task<IReadOnlyDictionary<string, TaskMeta>> GetTasksAsync(CancellationToken ct = default) => Call(() => inner.GetTasksAsync(ct));

    public Task MarkTaskDeletedAsync(string name, CancellationToken ct = default) => Call(() => inner.MarkTaskDeletedAsync(name, ct));

    public Task RemoveTaskDeletedAsync(string name, CancellationToken ct = default) => Call(() => inner.RemoveTaskDeletedAsync(name, ct));

    public Task<IReadOnlySet<string>> GetDeletedTaskNamesAsync(CancellationToken ct = default) => Call(() => inner.GetDeletedTaskNamesAsync(ct));

    public Task ForceCleanupTaskAsync(string name, CancellationToken ct = default) => Call(() => inner.ForceCleanupTaskAsync(name, ct));

    public Task ForceCleanupAllTasksAsync(CancellationToken ct = default) => Call(() => inner.ForceCleanupAllTasksAsync(ct));

    public Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default) =>
        Call(() =>
        {
            TargetedFault(nameof(CanRunTaskAsync), task);
            return inner.CanRunTaskAsync(task, scheduledAt, nodeId, ct);
        });

    public Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default) => Call(() => inner.CompleteFireAsync(claim, outcome, ct));

    public Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _fireStateReads);
        return Call(() =>
        {
            TargetedFault(nameof(GetFireStateAsync), task);
            return inner.GetFireStateAsync(task, ct);
        });
    }

    public Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default)
    {
        Interlocked.Increment(ref _fireStatesReads);
        return Call(() => inner.GetFireStatesAsync(ct));
    }

    public IAsyncEnumerable<NodeEvent> WatchNodesAsync(CancellationToken ct = default) => Watch(inner.WatchNodesAsync, ct, held: false);

    public IAsyncEnumerable<TaskEvent> WatchTasksAsync(CancellationToken ct = default) => Watch(inner.WatchTasksAsync, ct, held: true);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private async Task Call(Func<Task> call)
    {
        var fault = NextFault();
        if (fault == Fault.Before)
        {
            throw new RegistryUnavailableException("Injected fault: the request never reached the registry.");
        }

        await call().ConfigureAwait(false);
        if (fault == Fault.After)
        {
            throw new RegistryUnavailableException("Injected fault: the registry applied the request but the answer was lost.");
        }
    }

    private async Task<T> Call<T>(Func<Task<T>> call)
    {
        var fault = NextFault();
        if (fault == Fault.Before)
        {
            throw new RegistryUnavailableException("Injected fault: the request never reached the registry.");
        }

        var result = await call().ConfigureAwait(false);
        if (fault == Fault.After)
        {
            throw new RegistryUnavailableException("Injected fault: the registry applied the request but the answer was lost.");
        }

        return result;
    }

    private Fault NextFault()
    {
        if (Partitioned)
        {
            throw new RegistryUnavailableException("Injected fault: the node is partitioned from the registry.");
        }

        var k = FailEvery;
        if (k <= 0 || Interlocked.Increment(ref _calls) % k != 0)
        {
            return Fault.None;
        }

        return Interlocked.Increment(ref _injected) % 2 == 0 ? Fault.After : Fault.Before;
    }

    private async IAsyncEnumerable<T> Watch<T>(Func<CancellationToken, IAsyncEnumerable<T>> watch, [EnumeratorCancellation] CancellationToken ct, bool held)
    {
        CancellationToken partition;
        lock (_lock)
        {
            if (Partitioned)
            {
                throw new RegistryUnavailableException("Injected fault: the node is partitioned from the registry.");
            }

            partition = _partition.Token;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, partition);
        var e = watch(linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await e.MoveNextAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new RegistryUnavailableException("Injected fault: the node is partitioned from the registry.");
                }

                if (!more)
                {
                    yield break;
                }

                if (held)
                {
                    Task gate;
                    lock (_lock)
                    {
                        gate = _taskWatchGate.Task;
                    }

                    await gate.WaitAsync(linked.Token).ConfigureAwait(false);
                }

                yield return e.Current;
            }
        }
        finally
        {
            await e.DisposeAsync().ConfigureAwait(false);
        }
    }

    private enum Fault
    {
        None,
        Before,
        After,
    }
}
