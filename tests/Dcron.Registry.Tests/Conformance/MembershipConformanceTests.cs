using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>conformance.md cases 1–8: registration, liveness, status, unregistration and the node watch.</summary>
public abstract class MembershipConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    [Fact]
    public async Task Case01_Register_then_GetNodes_returns_every_field()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var node = new Node
        {
            Id = "10.0.0.7-1700000000000000000-0042",
            Ip = "10.0.0.7",
            Hostname = "worker-7.example — ünïcode",
            Status = NodeStatus.Working,
            Weight = 5,
            CreatedAt = new DateTimeOffset(2024, 2, 29, 23, 59, 58, 765, TimeSpan.Zero),
        };
        await r.RegisterNodeAsync(node, Target.NodeTtl, Ct);

        var other = await NewRegistryAsync(ns); // another client of the same server sees the same record
        foreach (var reader in new[] { r, other })
        {
            var got = Assert.Single(await reader.GetNodesAsync(Ct));
            Assert.Equal(node.Id, got.Id);
            Assert.Equal(node.Ip, got.Ip);
            Assert.Equal(node.Hostname, got.Hostname);
            Assert.Equal(node.Status, got.Status);
            Assert.Equal(node.Weight, got.Weight);
            Assert.Equal(node.CreatedAt.UtcTicks, got.CreatedAt.UtcTicks);
        }
    }

    [Fact]
    public async Task Case02_GetNodes_is_sorted_by_id_and_lists_live_nodes_only()
    {
        var r = await NewRegistryAsync(NewNamespace());
        string[] ids = ["node-b", "Node-Z", "node-a", "10.0.0.2-x", "node-aa", "node-c", "_gone"];
        foreach (var id in ids)
        {
            await r.RegisterNodeAsync(NewNode(id), Target.NodeTtl, Ct);
        }

        await r.UnregisterNodeAsync("_gone", Ct);
        var got = (await r.GetNodesAsync(Ct)).Select(n => n.Id).ToArray();
        var expected = ids.Where(i => i != "_gone").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, got); // ordinal: "10…" < "Node-Z" < "node-a" < "node-aa" < …
    }

    [Fact]
    public async Task Case03_Heartbeats_every_third_of_the_ttl_keep_a_node_alive_for_three_ttls()
    {
        var r = await NewRegistryAsync(NewNamespace());
        await r.RegisterNodeAsync(NewNode("beating"), Target.NodeTtl, Ct);
        var clock = Scope.Clock;
        var start = clock.GetTimestamp();
        while (clock.GetElapsedTime(start) < Target.NodeTtl * 3)
        {
            await ElapseAsync(Target.NodeTtl / 3);
            await r.HeartbeatAsync("beating", Ct);
            Assert.Contains(await r.GetNodesAsync(Ct), n => n.Id == "beating");
        }
    }

    [Fact]
    public async Task Case04_Without_heartbeats_a_node_is_gone_within_ttl_plus_tolerance()
    {
        var r = await NewRegistryAsync(NewNamespace());
        var clock = Scope.Clock;
        var start = clock.GetTimestamp();
        await r.RegisterNodeAsync(NewNode("silent"), Target.NodeTtl, Ct);
        await r.RegisterNodeAsync(NewNode("beating"), Target.NodeTtl, Ct);

        // Not before half its TTL (a registration that expires at once is wrong too).
        await ElapseAsync(Target.NodeTtl / 2 - clock.GetElapsedTime(start));
        await r.HeartbeatAsync("beating", Ct);
        Assert.Contains(await r.GetNodesAsync(Ct), n => n.Id == "silent");

        await WaitOnServerTimeAsync(
            async () =>
            {
                await r.HeartbeatAsync("beating", Ct);
                return (await r.GetNodesAsync(Ct)).All(n => n.Id != "silent");
            },
            Target.NodeTtl + Target.ExpiryTolerance - clock.GetElapsedTime(start),
            "the node without heartbeats expires");
        Assert.Contains(await r.GetNodesAsync(Ct), n => n.Id == "beating");
    }

    [Fact]
    public async Task Case05_Heartbeat_after_expiry_throws_NodeNotFound_and_registering_again_works()
    {
        var r = await NewRegistryAsync(NewNamespace());
        var ex = await Assert.ThrowsAsync<NodeNotFoundException>(() => r.HeartbeatAsync("never-registered", Ct));
        Assert.Equal("never-registered", ex.NodeId);

        await r.RegisterNodeAsync(NewNode("phoenix"), Target.NodeTtl, Ct);
        await WaitOnServerTimeAsync(
            async () => (await r.GetNodesAsync(Ct)).Count == 0,
            Target.NodeTtl + Target.ExpiryTolerance,
            "the node expires");
        ex = await Assert.ThrowsAsync<NodeNotFoundException>(() => r.HeartbeatAsync("phoenix", Ct));
        Assert.Equal("phoenix", ex.NodeId);

        await r.RegisterNodeAsync(NewNode("phoenix", NodeStatus.Working), Target.NodeTtl, Ct);
        await r.HeartbeatAsync("phoenix", Ct);
        var back = Assert.Single(await r.GetNodesAsync(Ct));
        Assert.Equal(NodeStatus.Working, back.Status);
    }

    [Fact]
    public async Task Case06_UpdateNodeStatus_changes_the_status_and_throws_NodeNotFound_for_an_unknown_node()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var node = NewNode("n1", NodeStatus.Starting, weight: 3);
        await r.RegisterNodeAsync(node, Target.NodeTtl, Ct);
        foreach (var status in new[] { NodeStatus.Working, NodeStatus.Leaving, NodeStatus.Working })
        {
            await r.UpdateNodeStatusAsync("n1", status, Ct);
            var got = Assert.Single(await (await NewRegistryAsync(ns)).GetNodesAsync(Ct));
            Assert.Equal(status, got.Status);
            Assert.Equal(node.Weight, got.Weight); // the rest of the record is kept
            Assert.Equal(node.Hostname, got.Hostname);
        }

        var ex = await Assert.ThrowsAsync<NodeNotFoundException>(() => r.UpdateNodeStatusAsync("ghost", NodeStatus.Working, Ct));
        Assert.Equal("ghost", ex.NodeId);
        Assert.DoesNotContain(await r.GetNodesAsync(Ct), n => n.Id == "ghost"); // and nothing was created

        // The status update keeps the node's liveness: it still expires without heartbeats.
        await WaitOnServerTimeAsync(async () => (await r.GetNodesAsync(Ct)).Count == 0,
            Target.NodeTtl + Target.ExpiryTolerance, "the updated node still expires");
    }

    [Fact]
    public async Task Case07_Unregister_removes_the_node_at_once_and_an_unknown_node_is_not_an_error()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var other = await NewRegistryAsync(ns);
        await r.RegisterNodeAsync(NewNode("a"), Target.NodeTtl, Ct);
        await r.RegisterNodeAsync(NewNode("b"), Target.NodeTtl, Ct);
        await r.UnregisterNodeAsync("a", Ct);
        Assert.Equal(["b"], (await r.GetNodesAsync(Ct)).Select(n => n.Id));
        Assert.Equal(["b"], (await other.GetNodesAsync(Ct)).Select(n => n.Id));
        await Assert.ThrowsAsync<NodeNotFoundException>(() => r.HeartbeatAsync("a", Ct));

        await r.UnregisterNodeAsync("a", Ct);
        await r.UnregisterNodeAsync("never-there", Ct);
        Assert.Equal(["b"], (await r.GetNodesAsync(Ct)).Select(n => n.Id));
    }

    [Fact]
    public async Task Case08_WatchNodes_delivers_a_snapshot_then_register_status_unregister_and_expiry()
    {
        var ns = NewNamespace();
        var writer = await NewRegistryAsync(ns);
        await writer.RegisterNodeAsync(NewNode("existing"), Target.NodeTtl * 100, Ct);
        var watcher = await NewRegistryAsync(ns);
        var watch = await WatchNodesAsync(watcher);
        Assert.Equal(["existing"], watch.Events[0].Nodes.Select(n => n.Id)); // the snapshot holds the current nodes

        var t = Target.EventTimeout;
        await writer.RegisterNodeAsync(NewNode("x"), Target.NodeTtl * 100, Ct);
        await watch.WaitUntilAsync(v => v.TryGetValue("x", out var n) && n.Status == NodeStatus.Starting, t, "register x");
        Assert.Equal(NewNode("x").Hostname, watch.View["x"].Hostname);

        await writer.UpdateNodeStatusAsync("x", NodeStatus.Working, Ct);
        await watch.WaitUntilAsync(v => v.TryGetValue("x", out var n) && n.Status == NodeStatus.Working, t, "x working");
        await writer.UpdateNodeStatusAsync("x", NodeStatus.Leaving, Ct);
        await watch.WaitUntilAsync(v => v.TryGetValue("x", out var n) && n.Status == NodeStatus.Leaving, t, "x leaving");

        await writer.UnregisterNodeAsync("x", Ct);
        await watch.WaitUntilAsync(v => !v.ContainsKey("x"), t, "unregister x");

        await writer.RegisterNodeAsync(NewNode("mortal"), Target.NodeTtl, Ct);
        await watch.WaitUntilAsync(v => v.ContainsKey("mortal"), t, "register mortal");
        await WaitOnServerTimeAsync(async () => (await writer.GetNodesAsync(Ct)).All(n => n.Id != "mortal"),
            Target.NodeTtl + Target.ExpiryTolerance, "mortal expires");
        await watch.WaitUntilAsync(v => !v.ContainsKey("mortal"), t, "the expiry of mortal is delivered");

        // Every state was seen, in order, and nothing else happened to the other node.
        var x = watch.HistoryOf("x").Select(n => n?.Status.ToString() ?? "absent").ToArray();
        Assert.Equal(["Starting", "Working", "Leaving", "absent"], x);
        Assert.Equal(["present", "absent"], watch.HistoryOf("mortal").Select(n => n is null ? "absent" : "present"));
        Assert.True(watch.View.ContainsKey("existing"));
        Assert.Equal(new[] { "existing" }, (await writer.GetNodesAsync(Ct)).Select(n => n.Id));
    }
}
