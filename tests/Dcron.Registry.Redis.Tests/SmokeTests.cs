using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.Redis.Tests;

public sealed class SmokeTests(SharedTarget<RedisTarget> t) : IClassFixture<SharedTarget<RedisTarget>>
{
    [Fact]
    public async Task Basic()
    {
        await using var r = await t.Target.CreateRegistryAsync("smoke-" + Guid.NewGuid().ToString("N")[..8], default);
        await r.RegisterNodeAsync(new Node { Id = "n1", Status = NodeStatus.Starting, CreatedAt = DateTimeOffset.UtcNow }, TimeSpan.FromSeconds(2));
        await r.UpdateNodeStatusAsync("n1", NodeStatus.Working);
        var nodes = await r.GetNodesAsync();
        Assert.Single(nodes);
        Assert.Equal(NodeStatus.Working, nodes[0].Status);
        await r.HeartbeatAsync("n1");
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(new TaskMeta { Name = "a", CronFormat = "* * * * * *", Payload = "héllo/\"x\"" }));
        Assert.Equal(AddTaskResult.Exists, await r.AddTaskAsync(new TaskMeta { Name = "a", CronFormat = "* * * * * *" }));
        await r.MarkTaskDeletedAsync("b");
        Assert.Equal(AddTaskResult.Deleted, await r.AddTaskAsync(new TaskMeta { Name = "b", CronFormat = "* * * * * *" }));
        var tasks = await r.GetTasksAsync();
        Assert.Equal("héllo/\"x\"", tasks["a"].Payload);
        var t0 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var c1 = await r.CanRunTaskAsync("a", t0, "n1");
        Assert.True(c1.Granted);
        var c2 = await r.CanRunTaskAsync("a", t0.ToOffset(TimeSpan.FromHours(8)), "n2");
        Assert.False(c2.Granted);
        Assert.Equal("n1", c2.CurrentOwner);
        await r.CompleteFireAsync(c1, new FireOutcome { Status = FireStatus.Succeeded, StartedAt = t0, Duration = TimeSpan.FromMilliseconds(5) });
        var st = await r.GetFireStateAsync("a");
        Assert.NotNull(st);
        Assert.False(st!.IsRunning);
        Assert.Equal(1, st.FencingToken);
        Assert.Single(await r.GetFireStatesAsync());

        await using var e = r.WatchNodesAsync().GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(NodeEventKind.Snapshot, e.Current.Kind);
        await r.RegisterNodeAsync(new Node { Id = "n2" }, TimeSpan.FromMilliseconds(500));
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(NodeEventKind.Upserted, e.Current.Kind);
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(NodeEventKind.Removed, e.Current.Kind);
        Assert.Equal("n2", e.Current.NodeId);
    }
}
