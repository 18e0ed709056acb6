using System.Collections.Concurrent;
using DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests;

/// <summary>Session expiry (node sessions and the main session) and a server restart within the session timeout.</summary>
public sealed class SessionTests(SharedTarget<ZooKeeperTarget> shared) : IClassFixture<SharedTarget<ZooKeeperTarget>>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private ZooKeeperTarget Target => shared.Target;

    [Fact]
    public async Task An_expired_node_session_makes_the_heartbeat_throw_NodeNotFound_and_re_registering_works()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = cts.Token;
        var ns = "exp-" + Guid.NewGuid().ToString("N")[..10];
        await using var registry = new ZooKeeperRegistry(Target.Options(ns), TestLog.For<ZooKeeperRegistry>());
        var node = new Node { Id = "paused", Status = NodeStatus.Working, Hostname = "h" };
        await registry.RegisterNodeAsync(node, TimeSpan.FromSeconds(10), ct);
        await registry.HeartbeatAsync("paused", ct);
        var events = await Watch(registry, ct);

        // The node's session ends on the server while the process lives (as after a long pause or partition).
        var session = NodeClient(registry, "paused");
        await Sessions.KillAsync(session, Target.ConnectString, ct);
        await Wait.UntilAsync(() => events.Any(e => e.Kind == NodeEventKind.Removed && e.NodeId == "paused"), Deadline, "the watch sees the node go");
        await Wait.UntilAsync(async () => await Throws<NodeNotFoundException>(() => registry.HeartbeatAsync("paused", ct)), Deadline, "the heartbeat reports the node gone");
        await Assert.ThrowsAsync<NodeNotFoundException>(() => registry.UpdateNodeStatusAsync("paused", NodeStatus.Leaving, ct));

        // What the engine does next: register again, on a new session.
        await registry.RegisterNodeAsync(node, TimeSpan.FromSeconds(10), ct);
        await registry.HeartbeatAsync("paused", ct);
        Assert.NotEqual(session.SessionId, NodeClient(registry, "paused").SessionId);
        await Wait.UntilAsync(() => events.Any(e => e.Kind == NodeEventKind.Upserted && e.NodeId == "paused"), Deadline, "the watch sees it back");
        Assert.Equal(node, Assert.Single(await registry.GetNodesAsync(ct)));
    }

    [Fact]
    public async Task An_expired_main_session_is_replaced_and_watches_resync_with_a_snapshot()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = cts.Token;
        var ns = "mexp-" + Guid.NewGuid().ToString("N")[..10];
        await using var registry = new ZooKeeperRegistry(Target.Options(ns), TestLog.For<ZooKeeperRegistry>());
        await using var writer = new ZooKeeperRegistry(Target.Options(ns));
        await registry.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(10), ct);
        var tasks = new ConcurrentQueue<TaskEvent>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pump = Task.Run(async () =>
        {
            await foreach (var e in registry.WatchTasksAsync(stop.Token))
            {
                tasks.Enqueue(e);
            }
        }, ct);
        await Wait.UntilAsync(() => !tasks.IsEmpty, Deadline, "the first snapshot");
        var oldSession = registry.MainClient.SessionId;

        await Sessions.KillAsync(registry.MainClient, Target.ConnectString, ct);
        await writer.PutTaskAsync(new TaskMeta { Name = "while-expired", CronFormat = "@daily" }, ct);
        // Wait for the replacement itself: a snapshot can also come from an earlier reconnect, before the new session.
        await Wait.UntilAsync(() => registry.MainClient.SessionId != oldSession, Deadline, "a new main session");
        await Wait.UntilAsync(() => tasks.Count(e => e.Kind == TaskEventKind.Snapshot) >= 2, Deadline, "a fresh snapshot after the expiry");
        await Wait.UntilAsync(() => tasks.Any(e => e.Tasks.ContainsKey("while-expired") || e.Name == "while-expired"), Deadline, "the change made meanwhile");

        // The watch is armed on the new session, the registry works, and the node (its own session) is untouched.
        await writer.PutTaskAsync(new TaskMeta { Name = "after", CronFormat = "@daily" }, ct);
        await Wait.UntilAsync(() => tasks.Any(e => e.Kind == TaskEventKind.Put && e.Name == "after"), Deadline, "a change after the new session");
        await registry.HeartbeatAsync("n1", ct);
        await stop.CancelAsync();
        await pump.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    [Fact]
    public async Task A_server_restart_within_the_ttl_keeps_sessions_nodes_tasks_and_fire_states()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = cts.Token;
        await using var server = ZooKeeperServer.Standalone();
        await server.StartAsync(ct);
        var ns = "restart-" + Guid.NewGuid().ToString("N")[..8];
        await using var registry = new ZooKeeperRegistry(Target.Options(ns, server.Address), TestLog.For<ZooKeeperRegistry>());
        await registry.RegisterNodeAsync(new Node { Id = "n1", Status = NodeStatus.Working }, TimeSpan.FromSeconds(10), ct);
        await registry.PutTaskAsync(new TaskMeta { Name = "job", CronFormat = "@hourly", Payload = "kept" }, ct);
        await registry.MarkTaskDeletedAsync("old", ct);
        var at = new DateTimeOffset(2030, 5, 5, 5, 5, 5, TimeSpan.Zero);
        var claim = await registry.CanRunTaskAsync("job", at, "n1", ct);
        var nodeSession = NodeClient(registry, "n1").SessionId;
        var mainSession = registry.MainClient.SessionId;

        await server.StopAsync();
        await Assert.ThrowsAnyAsync<RegistryUnavailableException>(() => registry.GetTasksAsync(ct));
        await server.StartAsync(ct);

        // Sessions are part of the server's persisted state: both re-attach and the ephemeral node is still there.
        await Wait.UntilAsync(async () => await Succeeds(() => registry.HeartbeatAsync("n1", ct)), Deadline, "the heartbeat works again");
        Assert.Equal(nodeSession, NodeClient(registry, "n1").SessionId);
        Assert.Equal("n1", Assert.Single(await registry.GetNodesAsync(ct)).Id);
        Assert.Equal(mainSession, registry.MainClient.SessionId);
        Assert.Equal("kept", (await registry.GetTasksAsync(ct))["job"].Payload);
        Assert.Equal(["old"], await registry.GetDeletedTaskNamesAsync(ct));
        var state = await registry.GetFireStateAsync("job", ct);
        Assert.Equal((at, claim.FencingToken), (state!.LastScheduledAt, state.FencingToken));
        Assert.False((await registry.CanRunTaskAsync("job", at, "n2", ct)).Granted);
    }

    private static ZooKeeper.Client.ZkClient NodeClient(ZooKeeperRegistry registry, string nodeId) =>
        registry.NodeClient(nodeId) ?? throw new InvalidOperationException($"node {nodeId} has no session");

    private static async Task<ConcurrentQueue<NodeEvent>> Watch(ZooKeeperRegistry registry, CancellationToken ct)
    {
        var events = new ConcurrentQueue<NodeEvent>();
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in registry.WatchNodesAsync(ct))
                {
                    events.Enqueue(e);
                }
            }
            catch (OperationCanceledException)
            {
                // test over
            }
        }, ct);
        await Wait.UntilAsync(() => !events.IsEmpty, Deadline, "the watch's snapshot");
        return events;
    }

    private static async Task<bool> Throws<T>(Func<Task> call)
        where T : Exception => await Record.ExceptionAsync(call) is T;

    private static async Task<bool> Succeeds(Func<Task> call) => await Record.ExceptionAsync(call) is null;
}
