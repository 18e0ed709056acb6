using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>conformance.md case 10: namespaces on one server never see each other's records or events.</summary>
public abstract class IsolationConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    [Fact]
    public async Task Case10_Two_namespaces_never_see_each_others_nodes_tasks_tombstones_fire_states_or_events()
    {
        // The second name extends the first, so a backend that scans by a bare prefix is caught too.
        var ns1 = NewNamespace();
        var ns2 = ns1 + "-more";
        var r1 = await NewRegistryAsync(ns1);
        var r2 = await NewRegistryAsync(ns2);
        var nodes2 = await WatchNodesAsync(await NewRegistryAsync(ns2));
        var tasks2 = await WatchTasksAsync(await NewRegistryAsync(ns2));
        var nodes1 = await WatchNodesAsync(await NewRegistryAsync(ns1));
        var tasks1 = await WatchTasksAsync(await NewRegistryAsync(ns1));

        // The same ids and names in both namespaces.
        await r1.RegisterNodeAsync(NewNode("shared-id", NodeStatus.Working), Target.NodeTtl * 100, Ct);
        await r1.RegisterNodeAsync(NewNode("only-1"), Target.NodeTtl * 100, Ct);
        Assert.Equal(AddTaskResult.Added, await r1.AddTaskAsync(NewTask("shared-task", payload: "one"), Ct));
        await r1.MarkTaskDeletedAsync("tomb-1", Ct);
        var claim1 = await r1.CanRunTaskAsync("shared-task", T0, "shared-id", Ct);
        Assert.True(claim1.Granted);

        await Assert.ThrowsAsync<NodeNotFoundException>(() => r2.HeartbeatAsync("shared-id", Ct));
        await Assert.ThrowsAsync<NodeNotFoundException>(() => r2.UpdateNodeStatusAsync("only-1", NodeStatus.Leaving, Ct));
        Assert.Empty(await r2.GetNodesAsync(Ct));
        Assert.Empty(await r2.GetTasksAsync(Ct));
        Assert.Empty(await r2.GetDeletedTaskNamesAsync(Ct));
        Assert.Empty(await r2.GetFireStatesAsync(Ct));
        Assert.Null(await r2.GetFireStateAsync("shared-task", Ct));

        // Namespace 2 gets its own records of the same names, independently.
        await r2.RegisterNodeAsync(NewNode("shared-id", NodeStatus.Starting), Target.NodeTtl * 100, Ct);
        Assert.Equal(AddTaskResult.Added, await r2.AddTaskAsync(NewTask("shared-task", payload: "two"), Ct));
        var claim2 = await r2.CanRunTaskAsync("shared-task", T0, "shared-id", Ct);
        Assert.True(claim2.Granted, "the same occurrence in another namespace is another claim");
        Assert.Equal(AddTaskResult.Added, await r2.AddTaskAsync(NewTask("tomb-1"), Ct)); // not tombstoned here

        // Changes and clean-ups in namespace 2 leave namespace 1 alone.
        await r2.UnregisterNodeAsync("only-1", Ct);
        await r2.UpdateNodeStatusAsync("shared-id", NodeStatus.Leaving, Ct);
        await r2.ForceCleanupTaskAsync("shared-task", Ct);
        await r2.MarkTaskDeletedAsync("sentinel", Ct);
        await r2.RegisterNodeAsync(NewNode("sentinel"), Target.NodeTtl * 100, Ct);

        Assert.Equal(["only-1", "shared-id"], (await r1.GetNodesAsync(Ct)).Select(n => n.Id));
        Assert.Equal(NodeStatus.Working, (await r1.GetNodesAsync(Ct)).Single(n => n.Id == "shared-id").Status);
        Assert.Equal("one", (await r1.GetTasksAsync(Ct))["shared-task"].Payload);
        Assert.Equal(["tomb-1"], await r1.GetDeletedTaskNamesAsync(Ct));
        Assert.Equal(claim1.FencingToken, (await r1.GetFireStateAsync("shared-task", Ct))!.FencingToken);
        Assert.Equal(["shared-task"], (await r1.GetFireStatesAsync(Ct)).Keys);

        // Each namespace's watches saw their own changes only (the sentinels prove namespace 2's were processed).
        await nodes2.WaitUntilAsync(v => v.ContainsKey("sentinel"), Target.EventTimeout, "namespace 2 node sentinel");
        await tasks2.WaitUntilAsync(v => v.ContainsKey("sentinel"), Target.EventTimeout, "namespace 2 task sentinel");
        Assert.Equal(["sentinel", "shared-id"], nodes2.View.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(NodeStatus.Leaving, nodes2.View["shared-id"].Status);
        Assert.Equal(["sentinel", "tomb-1"], tasks2.View.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(nodes2.HistoryOf("only-1"));

        await nodes1.WaitUntilAsync(v => v.Count == 2, Target.EventTimeout, "namespace 1 nodes");
        await tasks1.WaitUntilAsync(v => v.Count == 2, Target.EventTimeout, "namespace 1 tasks");
        Assert.Empty(nodes1.HistoryOf("sentinel"));
        Assert.Empty(tasks1.HistoryOf("sentinel"));
        Assert.Equal([NodeStatus.Working], nodes1.HistoryOf("shared-id").Select(n => n!.Status));
        Assert.Equal("one", tasks1.View["shared-task"].Meta!.Payload);
    }
}
