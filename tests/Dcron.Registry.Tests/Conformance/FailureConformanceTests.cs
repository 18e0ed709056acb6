using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>conformance.md cases 27–29: an unreachable server, cancellation and dispose.</summary>
public abstract class FailureConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    /// <summary>Every method of the contract except the watches, each called once.</summary>
    protected static IEnumerable<(string What, Func<IRegistry, CancellationToken, Task> Call)> EveryCall()
    {
        var claim = new FireClaim { Granted = true, TaskName = "job", ScheduledAt = T0, NodeId = "n1", FencingToken = 1 };
        yield return ("RegisterNode", (r, ct) => r.RegisterNodeAsync(NewNode("n1"), TimeSpan.FromSeconds(10), ct));
        yield return ("Heartbeat", (r, ct) => r.HeartbeatAsync("n1", ct));
        yield return ("UpdateNodeStatus", (r, ct) => r.UpdateNodeStatusAsync("n1", NodeStatus.Working, ct));
        yield return ("UnregisterNode", (r, ct) => r.UnregisterNodeAsync("n1", ct));
        yield return ("GetNodes", (r, ct) => r.GetNodesAsync(ct));
        yield return ("AddTask", (r, ct) => r.AddTaskAsync(NewTask("job"), ct));
        yield return ("PutTask", (r, ct) => r.PutTaskAsync(NewTask("job"), ct));
        yield return ("GetTasks", (r, ct) => r.GetTasksAsync(ct));
        yield return ("MarkTaskDeleted", (r, ct) => r.MarkTaskDeletedAsync("job", ct));
        yield return ("RemoveTaskDeleted", (r, ct) => r.RemoveTaskDeletedAsync("job", ct));
        yield return ("GetDeletedTaskNames", (r, ct) => r.GetDeletedTaskNamesAsync(ct));
        yield return ("ForceCleanupTask", (r, ct) => r.ForceCleanupTaskAsync("job", ct));
        yield return ("ForceCleanupAllTasks", (r, ct) => r.ForceCleanupAllTasksAsync(ct));
        yield return ("CanRunTask", (r, ct) => r.CanRunTaskAsync("job", T0, "n1", ct));
        yield return ("CompleteFire", (r, ct) => r.CompleteFireAsync(claim, new FireOutcome { Status = FireStatus.Succeeded }, ct));
        yield return ("GetFireState", (r, ct) => r.GetFireStateAsync("job", ct));
        yield return ("GetFireStates", (r, ct) => r.GetFireStatesAsync(ct));
    }

    /// <summary><see cref="EveryCall"/>, for the optional conformance classes.</summary>
    internal static IEnumerable<(string What, Func<IRegistry, CancellationToken, Task> Call)> EveryCallForSubclasses() => EveryCall();

    [Fact]
    public async Task Case27_With_the_server_unreachable_every_method_throws_RegistryUnavailable_within_the_timeout()
    {
        var timeout = Target.UnreachableTimeout;
        var r = Own(await Scope.CreateUnreachableRegistryAsync(NewNamespace(), timeout, Ct));
        var deadline = (timeout * 2) + TimeSpan.FromSeconds(5);
        foreach (var (what, call) in EveryCall())
        {
            var ex = await FailsWithinAsync<RegistryUnavailableException>(() => call(r, Ct), deadline, what);
            Assert.False(string.IsNullOrWhiteSpace(ex.Message), what);
        }

        // A watch retries by itself: it delivers nothing (above all no empty snapshot) and ends when cancelled.
        foreach (var watchNodes in new[] { true, false })
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var events = 0;
            var watch = Task.Run(async () =>
            {
                if (watchNodes)
                {
                    await foreach (var _ in r.WatchNodesAsync(cts.Token))
                    {
                        Interlocked.Increment(ref events);
                    }
                }
                else
                {
                    await foreach (var _ in r.WatchTasksAsync(cts.Token))
                    {
                        Interlocked.Increment(ref events);
                    }
                }
            });
            var finished = await Task.WhenAny(watch, Task.Delay(timeout * 2, Ct));
            Assert.True(finished != watch, $"the {(watchNodes ? "node" : "task")} watch ended by itself: {watch.Exception?.GetBaseException().Message}");
            Assert.Equal(0, Volatile.Read(ref events));
            await cts.CancelAsync();
            await EndsAfterCancelAsync(watch, "a watch of an unreachable server");
        }
    }

    [Fact]
    public async Task Case28_A_cancelled_token_ends_every_call_and_writes_nothing()
    {
        var r = await NewRegistryAsync(NewNamespace());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        foreach (var (what, call) in EveryCall())
        {
            await FailsWithinAsync<OperationCanceledException>(() => call(r, cancelled.Token), Target.EventTimeout, what);
        }

        Assert.Empty(await r.GetNodesAsync(Ct));
        Assert.Empty(await r.GetTasksAsync(Ct));
        Assert.Empty(await r.GetDeletedTaskNamesAsync(Ct));
        Assert.Empty(await r.GetFireStatesAsync(Ct));

        var pre = Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in r.WatchNodesAsync(cancelled.Token))
            {
                throw new Xunit.Sdk.XunitException("A watch with a cancelled token delivered an event.");
            }
        });
        await EndsAfterCancelAsync(pre, "a watch started with a cancelled token");
    }

    [Fact]
    public async Task Case28_Cancelling_an_open_watch_ends_it_promptly()
    {
        var r = await NewRegistryAsync(NewNamespace());
        foreach (var nodes in new[] { true, false })
        {
            IAsyncDisposable folder = nodes ? await NodeWatchFolder.StartAsync(r, Target.EventTimeout, Ct) : await TaskWatchFolder.StartAsync(r, Target.EventTimeout, Ct);
            await WithinAsync(() => folder.DisposeAsync().AsTask(), Target.EventTimeout, "cancelling a watch ends it");
            var end = nodes ? ((NodeWatchFolder)folder).EndException : ((TaskWatchFolder)folder).EndException;
            Assert.True(end is null or OperationCanceledException, $"a cancelled watch ends quietly or with OperationCanceledException, not {end}");
        }

        await r.PutTaskAsync(NewTask("after"), Ct); // the client is unaffected
        Assert.Single(await r.GetTasksAsync(Ct));
    }

    [Fact]
    public async Task Case29_DisposeAsync_ends_open_watches_and_the_client_refuses_further_calls()
    {
        var ns = NewNamespace();
        var doomed = await Scope.CreateRegistryAsync(ns, Ct);
        var survivor = await NewRegistryAsync(ns);
        var nodes = await WatchNodesAsync(doomed);
        var tasks = await WatchTasksAsync(doomed);
        var other = await WatchTasksAsync(survivor);

        await WithinAsync(() => doomed.DisposeAsync().AsTask(), Target.EventTimeout, "DisposeAsync");
        await WithinAsync(() => Task.WhenAll(nodes.Completion, tasks.Completion), Target.EventTimeout, "dispose ends the client's watches");
        foreach (var end in new[] { nodes.EndException, tasks.EndException })
        {
            Assert.True(end is null or OperationCanceledException or ObjectDisposedException,
                $"a watch of a disposed client ends quietly, cancelled or with ObjectDisposedException, not {end}");
        }

        foreach (var (what, call) in EveryCall())
        {
            await FailsWithinAsync<ObjectDisposedException>(() => call(doomed, Ct), Target.EventTimeout, what);
        }

        var late = Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in doomed.WatchTasksAsync(Ct))
            {
                throw new Xunit.Sdk.XunitException("A watch of a disposed client delivered an event.");
            }
        });
        var lateEx = await late.WaitAsync(Target.EventTimeout, Ct);
        Assert.IsType<ObjectDisposedException>(lateEx);
        await doomed.DisposeAsync(); // twice is harmless

        // Other clients of the server are unaffected.
        await survivor.PutTaskAsync(NewTask("after-dispose"), Ct);
        await other.WaitUntilAsync(v => v.ContainsKey("after-dispose"), Target.EventTimeout, "the other client's watch goes on");
    }

    private async Task EndsAfterCancelAsync(Task watch, string what)
    {
        var finished = await Task.WhenAny(watch, Task.Delay(Target.EventTimeout, Ct));
        Assert.True(finished == watch, $"{what} did not end within {Target.EventTimeout} of cancellation");
        var ex = watch.Exception?.GetBaseException();
        if (watch is Task<Exception?> recorded)
        {
            ex = await recorded;
        }

        Assert.True(ex is null or OperationCanceledException, $"{what} ends quietly or with OperationCanceledException, not {ex}");
    }
}
