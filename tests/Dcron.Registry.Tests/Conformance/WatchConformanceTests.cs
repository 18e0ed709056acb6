using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>Watch properties beyond cases 8 and 14: snapshots, several watchers, slow consumers, ending a watch.</summary>
public abstract class WatchConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    [Fact]
    public async Task The_first_event_is_a_snapshot_of_nodes_and_of_tasks_and_tombstones()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        foreach (var id in new[] { "c", "a", "b" })
        {
            await r.RegisterNodeAsync(NewNode(id, NodeStatus.Working), Target.NodeTtl * 100, Ct);
        }

        await r.PutTaskAsync(NewTask("t1", payload: "p1"), Ct);
        await r.PutTaskAsync(NewTask("t2"), Ct);
        await r.MarkTaskDeletedAsync("t2", Ct);
        await r.MarkTaskDeletedAsync("t3", Ct);

        var nodes = await WatchNodesAsync(await NewRegistryAsync(ns));
        var snapshot = nodes.Events[0];
        Assert.Equal(["a", "b", "c"], snapshot.Nodes.Select(n => n.Id));
        Assert.All(snapshot.Nodes, n => Assert.Equal(NewNode(n.Id, NodeStatus.Working).Hostname, n.Hostname));

        var tasks = await WatchTasksAsync(await NewRegistryAsync(ns));
        var ts = tasks.Events[0];
        Assert.Equal(NewTask("t1", payload: "p1"), ts.Tasks["t1"]);
        Assert.Equal(["t1", "t2"], ts.Tasks.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["t2", "t3"], ts.DeletedNames.Order(StringComparer.Ordinal));

        var empty = await WatchNodesAsync(await NewRegistryAsync(NewNamespace()));
        Assert.Empty(empty.Events[0].Nodes);
    }

    [Fact]
    public async Task Several_watchers_on_several_clients_each_see_every_change()
    {
        var ns = NewNamespace();
        var a = await NewRegistryAsync(ns);
        var b = await NewRegistryAsync(ns);
        var watches = new[] { await WatchTasksAsync(a), await WatchTasksAsync(a), await WatchTasksAsync(b) };
        var nodeWatches = new[] { await WatchNodesAsync(a), await WatchNodesAsync(b) };

        for (var i = 0; i < 20; i++)
        {
            await (i % 2 == 0 ? a : b).PutTaskAsync(NewTask($"t{i}", payload: $"{i}"), Ct);
            await (i % 2 == 0 ? b : a).RegisterNodeAsync(NewNode($"n{i}"), Target.NodeTtl * 100, Ct);
        }

        await a.MarkTaskDeletedAsync("t3", Ct);
        await b.UnregisterNodeAsync("n4", Ct);
        var tasks = await a.GetTasksAsync(Ct);
        foreach (var w in watches)
        {
            await w.WaitUntilAsync(v => v.Count == 20 && v["t3"].Tombstoned && tasks.All(t => v[t.Key].Meta == t.Value),
                Target.EventTimeout, "every task change on every watcher");
        }

        foreach (var w in nodeWatches)
        {
            await w.WaitUntilAsync(v => v.Count == 19 && !v.ContainsKey("n4"), Target.EventTimeout, "every node change on every watcher");
        }
    }

    [Fact]
    public async Task A_watcher_that_does_not_read_never_stalls_writers_and_catches_up_when_it_reads()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var watcher = await NewRegistryAsync(ns);
        using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var e = watcher.WatchTasksAsync(watchCts.Token).GetAsyncEnumerator(watchCts.Token);
        try
        {
            Assert.True(await e.MoveNextAsync()); // subscribed: the snapshot arrived; now stop reading
            Assert.Equal(TaskEventKind.Snapshot, e.Current.Kind);
            var view = FoldTasks(new Dictionary<string, TaskMeta>(), e.Current);

            var n = Target.SlowConsumerWrites;
            await WithinAsync(
                () => ForEachLimitedAsync(Enumerable.Range(0, n), 8, i => r.PutTaskAsync(NewTask($"w{i:D5}", payload: $"{i}"), Ct)),
                TimeSpan.FromSeconds(Math.Max(30, n / 20.0)), $"{n} writes while a watcher does not read");
            var expected = await r.GetTasksAsync(Ct);
            Assert.Equal(n, expected.Count); // distinct names: a dropped event cannot be made good by a later one

            watchCts.CancelAfter(Target.EventTimeout);
            while (!(view.Count == expected.Count && expected.All(t => view.GetValueOrDefault(t.Key) == t.Value)))
            {
                Assert.True(await e.MoveNextAsync(), "the watch ended by itself");
                view = FoldTasks(view, e.Current);
            }
        }
        catch (OperationCanceledException) when (watchCts.IsCancellationRequested && !Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"The slow watcher did not catch up within {Target.EventTimeout}.");
        }
        finally
        {
            await watchCts.CancelAsync();
            await DrainCancelledAsync(e);
        }
    }

    [Fact]
    public async Task Ending_one_watch_leaves_the_other_watches_and_the_client_working()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var first = await NodeWatchFolder.StartAsync(r, Target.EventTimeout, Ct);
        var second = await WatchNodesAsync(r);
        await first.DisposeAsync();
        Assert.True(first.Completion.IsCompleted);

        await r.RegisterNodeAsync(NewNode("after"), Target.NodeTtl * 100, Ct);
        await second.WaitUntilAsync(v => v.ContainsKey("after"), Target.EventTimeout, "the other watch goes on");
        var third = await WatchNodesAsync(r);
        Assert.Equal(["after"], third.Events[0].Nodes.Select(n => n.Id));

        // Breaking out of an await foreach ends that watch too.
        await foreach (var ev in r.WatchTasksAsync(Ct))
        {
            Assert.Equal(TaskEventKind.Snapshot, ev.Kind);
            break;
        }

        await r.PutTaskAsync(NewTask("still-works"), Ct);
        Assert.Contains("still-works", (await r.GetTasksAsync(Ct)).Keys);
    }

    private static Dictionary<string, TaskMeta> FoldTasks(Dictionary<string, TaskMeta> view, TaskEvent e)
    {
        switch (e.Kind)
        {
            case TaskEventKind.Snapshot:
                return new Dictionary<string, TaskMeta>(e.Tasks, StringComparer.Ordinal);
            case TaskEventKind.Put:
                view[e.Name] = e.Task!;
                break;
            case TaskEventKind.Removed:
                view.Remove(e.Name);
                break;
        }

        return view;
    }

    private static async Task DrainCancelledAsync<T>(IAsyncEnumerator<T> e)
    {
        try
        {
            await e.DisposeAsync();
        }
        catch (OperationCanceledException)
        {
            // the watch was cancelled by this test
        }
    }
}
