using Xunit;

namespace DistributedCron.Tests.Engine;

/// <summary>Start, stop (drain, cancel, unregister), membership status, re-registration and the public events.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task StartReturnsOnceWorkingAndStopUnregisters()
    {
        await using var cluster = new FakeCluster();
        var a = cluster.AddNode("a");
        var nodesChanged = 0;
        a.Dcron.NodesChanged += (_, _) => Interlocked.Increment(ref nodesChanged);
        await a.Dcron.StartAsync();
        Assert.True(a.Dcron.IsRunning);
        var registered = Assert.Single(await cluster.Observer.GetNodesAsync());
        Assert.Equal(NodeStatus.Working, registered.Status);
        Assert.Equal(NodeStatus.Working, Assert.Single(a.Dcron.GetNodes()).Status);
        Assert.True(Volatile.Read(ref nodesChanged) > 0);
        await Assert.ThrowsAsync<InvalidOperationException>(() => a.Dcron.StartAsync());

        await a.Dcron.StopAsync();
        Assert.False(a.Dcron.IsRunning);
        Assert.Empty(await cluster.Observer.GetNodesAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => a.Dcron.StartAsync());
        await a.Dcron.StopAsync(); // idempotent
    }

    [Fact]
    public async Task StopDrainsARunningHandlerAndRecordsItsOutcome()
    {
        await using var cluster = new FakeCluster();
        var a = cluster.AddNode("a");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Dcron.AddFunc("long", "2/5 * * * * *", async _ =>
        {
            started.TrySetResult();
            await release.Task;
        });
        await a.Dcron.StartAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(1));
        cluster.Time.Advance(TimeSpan.FromSeconds(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stopping = a.Dcron.StopAsync();
        await TestWait.UntilAsync(async () => (await cluster.Observer.GetNodesAsync()).SingleOrDefault()?.Status == NodeStatus.Leaving, "the node to be leaving");
        Assert.False(stopping.IsCompleted, "stop waits for the running handler");
        release.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        var state = await cluster.Observer.GetFireStateAsync("long");
        Assert.Equal(FireStatus.Succeeded, state!.LastOutcome!.Status);
        Assert.False(state.IsRunning);
        Assert.Empty(await cluster.Observer.GetNodesAsync());
        Assert.Contains(cluster.Settled, e => e.TaskName == "long" && e.Result == FireResult.Succeeded);
    }

    [Fact]
    public async Task StopCancelsHandlersStillRunningAfterTheShutdownTimeout()
    {
        await using var cluster = new FakeCluster();
        var a = cluster.AddNode("a", o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Dcron.AddFunc("stubborn", "2/5 * * * * *", async ctx =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken);
        });
        await a.Dcron.StartAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(1));
        cluster.Time.Advance(TimeSpan.FromSeconds(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stopping = a.Dcron.StopAsync();
        await TestWait.UntilAsync(async () => (await cluster.Observer.GetNodesAsync()).SingleOrDefault()?.Status == NodeStatus.Leaving, "the node to be leaving");
        cluster.Time.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(20);
        Assert.False(stopping.IsCompleted, "stop waits the shutdown timeout");
        cluster.Time.Advance(TimeSpan.FromSeconds(1));
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(FireStatus.Cancelled, (await cluster.Observer.GetFireStateAsync("stubborn"))!.LastOutcome!.Status);
        Assert.Contains(cluster.Settled, e => e.TaskName == "stubborn" && e.Result == FireResult.Cancelled);
    }

    [Fact]
    public async Task AGracefulStopHandsTasksOverWithoutAGap()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 3).Select(i => cluster.AddNode($"node-{i}")).ToArray();
        var tasks = Enumerable.Range(0, 9).ToDictionary(i => $"h{i}", _ => "* * * * * *");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        var changes = new List<AssignmentChangedEventArgs>();
        foreach (var n in nodes)
        {
            n.Dcron.AssignmentChanged += (_, e) =>
            {
                lock (changes)
                {
                    changes.Add(e);
                }
            };
        }
        await cluster.StartAllAsync();
        var from = cluster.Now + TimeSpan.FromSeconds(1);
        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        await nodes[2].Dcron.StopAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(8));

        cluster.AssertExactlyOnce(tasks, from, cluster.Now - TimeSpan.FromSeconds(1));
        Assert.Empty(nodes[2].Dcron.GetAssignedTasks());
        Assert.Equal(tasks.Count, nodes[0].Dcron.GetAssignedTasks().Count + nodes[1].Dcron.GetAssignedTasks().Count);
        lock (changes)
        {
            Assert.Contains(changes, c => c.Gained.Count > 0 && c.WorkingNodeCount == 2);
        }
    }

    [Fact]
    public async Task ANodeTheRegistryLostRegistersAgainAndGetsTasksBack()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 2).Select(i => cluster.AddNode($"node-{i}")).ToArray();
        var tasks = Enumerable.Range(0, 8).ToDictionary(i => $"r{i}", _ => "* * * * * *");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        var from = cluster.Now + TimeSpan.FromSeconds(1);
        await cluster.StepAsync(TimeSpan.FromSeconds(3));

        // The registry drops node-1 (as after a long pause); its next heartbeat finds it gone and registers again.
        await cluster.Observer.UnregisterNodeAsync("node-1");
        await cluster.StepAsync(TimeSpan.FromSeconds(6));
        Assert.Contains(await cluster.Observer.GetNodesAsync(), n => n.Id == "node-1" && n.Status == NodeStatus.Working);
        Assert.NotEmpty(nodes[1].Dcron.GetAssignedTasks());

        // A partition heals: the node comes back the same way.
        nodes[1].Registry.Partition();
        await cluster.StepAsync(TimeSpan.FromSeconds(6));
        Assert.Empty(nodes[1].Dcron.GetAssignedTasks());
        nodes[1].Registry.Heal();
        await cluster.StepAsync(TimeSpan.FromSeconds(8));
        Assert.NotEmpty(nodes[1].Dcron.GetAssignedTasks());
        cluster.AssertExactlyOnce(tasks, from, cluster.Now - TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task AFailedStartLeavesNothingBehindAndCanBeRetried()
    {
        await using var cluster = new FakeCluster();
        var a = cluster.AddNode("a");
        a.Registry.Partition();
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => a.Dcron.StartAsync());
        Assert.False(a.Dcron.IsRunning);
        a.Registry.Heal();
        await a.Dcron.StartAsync();
        Assert.True(a.Dcron.IsRunning);
    }
}
